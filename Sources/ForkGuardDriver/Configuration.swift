import ForkGuardCore
import ForkGuardRules
import Foundation
import Yams

/// `.forkguard.yml`, found upward from each file. A nested one refines the ones above it,
/// as in EditorConfig: the settings it makes win, the rest is inherited (`rules`, the
/// function tables and `programs` merge entry by entry; `exclude` lists add up, each
/// pattern relative to its own file's folder); `root: true` stops the climb.
///
///     root: true                          # do not inherit from folders above
///     profile: glibc                      # posix-2024 (default), posix-2017, glibc
///     threads: always                     # auto (default): a fork child is judged as a
///                                         # multithreaded process's when a thread may run
///                                         # at the fork; always: every fork child
///     rules:                              # per rule: off, note, warning or error
///       vfork-child: error
///       atfork-lock-protocol: off
///     safe-functions:
///       log_raw: "formats with write(2) only"
///     unsafe-functions:
///       arena_alloc: "takes the arena lock"
///     lock-functions:                     # your own lock API
///       spin_acquire: { role: acquire, lock-argument: 0 }
///       spin_release: { role: release, lock-argument: 0 }
///     signal-registrations:               # functions that install a signal handler
///       install_handler: 1                # the handler's argument index
///     programs:                           # programs by hand: name -> file globs
///       sshd: [sshd.c, auth*.c, monitor*.c]
///     exclude:                            # paths relative to this file; * and ** globs
///       - third_party/**
public struct Configuration: Sendable {
  public static let fileName = ".forkguard.yml"
  public static let keys = [
    "root", "profile", "threads", "rules", "safe-functions", "unsafe-functions", "lock-functions",
    "signal-registrations",
    "exclude", "programs",
  ]

  public var path: String?
  /// `root: true`: the folders above are not consulted.
  public var isRoot = false
  public var profile: SafetyProfile?
  public var threads: AnalysisOptions.Threads?
  public var overrides = KnowledgeOverrides()
  /// Rule id to severity; nil severity turns the rule off.
  public var ruleSeverities: [String: Severity?] = [:]
  /// Glob patterns, each relative to the folder of the file that wrote it.
  public var exclude: [ScopedGlob] = []
  /// Programs named by hand: name to the globs of their files, for where the inference of
  /// programs gets a tree wrong.
  public var programs: [String: [ScopedGlob]] = [:]

  /// A glob and the folder it is relative to.
  public struct ScopedGlob: Sendable, Hashable {
    public var folder: String
    public var pattern: String

    func matches(_ file: String) -> Bool {
      let base = folder.hasSuffix("/") ? folder : folder + "/"
      guard file.hasPrefix(base) else { return false }
      return Glob.matches(pattern, String(file.dropFirst(base.count)))
    }
  }

  /// The rule ids `rules:` and suppression comments may name.
  public static var configurableRuleIDs: [String] {
    RuleRegistry.all.map(\.id) + RuleRegistry.suppressions.map(\.id)
  }

  /// This file's settings over `parent`'s: what this file sets wins, the rest is inherited.
  public func refining(_ parent: Configuration) -> Configuration {
    var merged = self
    merged.profile = profile ?? parent.profile
    merged.threads = threads ?? parent.threads
    merged.ruleSeverities = parent.ruleSeverities.merging(ruleSeverities) { $1 }
    merged.overrides.safe = parent.overrides.safe.merging(overrides.safe) { $1 }
    merged.overrides.unsafe = parent.overrides.unsafe.merging(overrides.unsafe) { $1 }
    merged.overrides.locks = parent.overrides.locks.merging(overrides.locks) { $1 }
    merged.overrides.signalRegistrations = parent.overrides.signalRegistrations.merging(
      overrides.signalRegistrations
    ) { $1 }
    merged.exclude = parent.exclude + exclude
    merged.programs = parent.programs.merging(programs) { $1 }
    return merged
  }

  public init() {}

  public struct Problem: Error, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var problem: String
    public var description: String {
      line.map { "\(path):\($0): \(problem)" } ?? "\(path): \(problem)"
    }
  }

  /// The nearest `.forkguard.yml` in `directory` or above it.
  public static func find(from directory: String) -> String? {
    var current = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
    while true {
      let candidate = current.appendingPathComponent(fileName).path
      if FileManager.default.fileExists(atPath: candidate) { return candidate }
      let parent = current.deletingLastPathComponent()
      if parent.path == current.path { return nil }
      current = parent
    }
  }

  /// Whether `file` matches one of the exclude patterns.
  public func excludes(_ file: String) -> Bool {
    exclude.contains { $0.matches(file) }
  }

  /// The program a file belongs to, when `programs:` names it (first name in order).
  public func program(of file: String) -> String? {
    programs.keys.sorted().first { name in programs[name]!.contains { $0.matches(file) } }
  }

  public static func load(path: String) throws -> Configuration {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw Problem(path: path, line: nil, problem: "cannot read configuration file")
    }
    return try parse(String(decoding: data, as: UTF8.self), path: path)
  }

  /// The configuration `text` says, as if read from `path`.
  public static func parse(_ text: String, path: String) throws -> Configuration {
    let node: Node?
    do { node = try Yams.compose(yaml: text) } catch {
      throw Problem(path: path, line: nil, problem: "not valid YAML: \(error)")
    }
    var configuration = Configuration()
    configuration.path = path
    let folder = (path as NSString).deletingLastPathComponent
    guard let node else { return configuration }
    guard let mapping = node.mapping else {
      throw Problem(path: path, line: line(of: node), problem: "expected a mapping of settings")
    }
    func fail(_ node: Node, _ problem: String) -> Problem {
      Problem(path: path, line: line(of: node), problem: problem)
    }
    for (key, value) in mapping {
      guard let name = key.string else { throw fail(key, "keys must be strings") }
      switch name {
      case "root":
        guard let flag = value.bool else { throw fail(value, "'root' must be true or false") }
        configuration.isRoot = flag
      case "profile":
        guard let text = value.string, let profile = SafetyProfile(rawValue: text) else {
          let choices = SafetyProfile.allCases.map(\.rawValue).joined(separator: ", ")
          throw fail(value, "'profile' must be one of \(choices)")
        }
        configuration.profile = profile
      case "threads":
        guard let text = value.string, let threads = AnalysisOptions.Threads(rawValue: text) else {
          throw fail(value, "'threads' must be always or auto")
        }
        configuration.threads = threads
      case "rules":
        guard let rules = value.mapping else {
          throw fail(value, "'rules' must map rule ids to off, note, warning or error")
        }
        for (rule, setting) in rules {
          guard let id = rule.string else { throw fail(rule, "rule ids must be strings") }
          guard configurableRuleIDs.contains(id) else {
            throw fail(rule, unknownRule(id))
          }
          switch setting.string {
          case "off": configuration.ruleSeverities[id] = .some(nil)
          case "note": configuration.ruleSeverities[id] = .note
          case "warning": configuration.ruleSeverities[id] = .warning
          case "error": configuration.ruleSeverities[id] = .error
          default: throw fail(setting, "rule '\(id)' must be off, note, warning or error")
          }
        }
      case "safe-functions":
        configuration.overrides.safe = try functionTable(value, key: name, fail: fail)
      case "unsafe-functions":
        configuration.overrides.unsafe = try functionTable(value, key: name, fail: fail)
      case "lock-functions":
        guard let table = value.mapping else {
          throw fail(value, "'lock-functions' must map names to { role, lock-argument }")
        }
        for (function, entry) in table {
          guard let functionName = function.string, let fields = entry.mapping else {
            throw fail(function, "'lock-functions' entries must be 'name: { role: acquire, lock-argument: 0 }'")
          }
          var role: LockRole?
          var argument = 0
          for (field, fieldValue) in fields {
            switch field.string {
            case "role":
              role = fieldValue.string.flatMap(LockRole.init(rawValue:))
              if role == nil {
                throw fail(fieldValue, "'role' must be acquire, tryAcquire, release, initialise or destroy")
              }
            case "lock-argument":
              guard let index = fieldValue.int, index >= 0 else {
                throw fail(fieldValue, "'lock-argument' must be an argument index")
              }
              argument = index
            default:
              throw fail(
                field,
                "unknown key '\(field.string ?? "")' in lock function '\(functionName)' (known: role, lock-argument)")
            }
          }
          guard let role else { throw fail(entry, "lock function '\(functionName)' needs a 'role'") }
          configuration.overrides.locks[functionName] = LockFunction(role: role, lockArgument: argument, family: "user")
        }
      case "signal-registrations":
        guard let table = value.mapping else {
          throw fail(value, "'signal-registrations' must map names to a handler argument index")
        }
        for (function, index) in table {
          guard let functionName = function.string, let argument = index.int, argument >= 0 else {
            throw fail(function, "'signal-registrations' entries must be 'name: argument-index'")
          }
          configuration.overrides.signalRegistrations[functionName] = argument
        }
      case "programs":
        guard let mapping = value.mapping else {
          throw fail(value, "'programs' must map program names to lists of file globs")
        }
        for (name, globs) in mapping {
          guard let program = name.string, let list = globs.sequence else {
            throw fail(name, "'programs' entries must be 'name: [globs]'")
          }
          configuration.programs[program] = try list.map {
            guard let pattern = $0.string else { throw fail($0, "'programs' globs must be strings") }
            return ScopedGlob(folder: folder, pattern: pattern)
          }
        }
      case "exclude":
        guard let list = value.sequence else { throw fail(value, "'exclude' must be a list of paths") }
        configuration.exclude = try list.map {
          guard let pattern = $0.string else { throw fail($0, "'exclude' entries must be strings") }
          return ScopedGlob(folder: folder, pattern: pattern)
        }
      default:
        let guess = DidYouMean.closest(to: name, in: keys).map { "did you mean '\($0)'? " } ?? ""
        throw fail(key, "unknown key '\(name)' (\(guess)known: \(keys.joined(separator: ", ")))")
      }
    }
    return configuration
  }

  /// "unknown rule 'X'", with the nearest id and where the runtime rules are set instead.
  static func unknownRule(_ id: String) -> String {
    if RuleRegistry.runtime.contains(where: { $0.id == id }) {
      return "'\(id)' is a rule of forkguard run; set it with run's options, not here"
    }
    let guess = DidYouMean.closest(to: id, in: configurableRuleIDs).map { "; did you mean '\($0)'?" } ?? ""
    return "unknown rule '\(id)'\(guess) (rules: \(configurableRuleIDs.joined(separator: ", ")))"
  }

  /// A mapping from function name to the reason, which the messages quote.
  private static func functionTable(_ node: Node, key: String, fail: (Node, String) -> Problem) throws
    -> [String: String]
  {
    guard let mapping = node.mapping else { throw fail(node, "'\(key)' must map function names to reasons") }
    var table: [String: String] = [:]
    for (name, reason) in mapping {
      guard let function = name.string, let text = reason.string, !text.isEmpty else {
        throw fail(name, "'\(key)' entries must be 'function: reason' with a reason")
      }
      table[function] = text
    }
    return table
  }

  private static func line(of node: Node) -> Int? { node.mark.map { $0.line } }
}

/// `*` matches within one path component, `**` across components; a pattern naming a
/// folder matches everything under it.
enum Glob {
  static func matches(_ pattern: String, _ path: String) -> Bool {
    let pattern = pattern.hasSuffix("/") ? pattern + "**" : pattern
    if match(Array(pattern.utf8), 0, Array(path.utf8), 0) { return true }
    return match(Array((pattern + "/**").utf8), 0, Array(path.utf8), 0)
  }

  private static func match(_ p: [UInt8], _ i: Int, _ s: [UInt8], _ j: Int) -> Bool {
    if i == p.count { return j == s.count }
    let slash = UInt8(ascii: "/")
    if p[i] == UInt8(ascii: "*") {
      if i + 1 < p.count && p[i + 1] == UInt8(ascii: "*") {
        var next = i + 2
        if next < p.count && p[next] == slash { next += 1 }
        for k in j...s.count where match(p, next, s, k) { return true }
        return false
      }
      var k = j
      while true {
        if match(p, i + 1, s, k) { return true }
        if k == s.count || s[k] == slash { return false }
        k += 1
      }
    }
    guard j < s.count, p[i] == UInt8(ascii: "?") ? s[j] != slash : p[i] == s[j] else { return false }
    return match(p, i + 1, s, j + 1)
  }
}
