import ForkGuardCore
import Foundation
import Yams

/// `.forkguard.yml`, found upward from each file (the nearest one wins, as with
/// .clang-tidy):
///
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
    "profile", "threads", "rules", "safe-functions", "unsafe-functions", "lock-functions", "signal-registrations",
    "exclude", "programs",
  ]

  public var path: String?
  public var profile: SafetyProfile?
  public var threads: AnalysisOptions.Threads?
  public var overrides = KnowledgeOverrides()
  /// Rule id to severity; nil severity turns the rule off.
  public var ruleSeverities: [String: Severity?] = [:]
  /// Glob patterns, relative to the configuration file's folder.
  public var exclude: [String] = []
  /// Programs named by hand: name to the globs of their files (relative to this file's
  /// folder), for where the inference of programs gets a tree wrong.
  public var programs: [String: [String]] = [:]

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
    guard let path, !exclude.isEmpty else { return false }
    let base = (path as NSString).deletingLastPathComponent + "/"
    guard file.hasPrefix(base) else { return false }
    let relative = String(file.dropFirst(base.count))
    return exclude.contains { Glob.matches($0, relative) }
  }

  /// The program a file belongs to, when `programs:` names it (first name in order).
  public func program(of file: String) -> String? {
    guard let path, !programs.isEmpty else { return nil }
    let base = (path as NSString).deletingLastPathComponent + "/"
    guard file.hasPrefix(base) else { return nil }
    let relative = String(file.dropFirst(base.count))
    return programs.keys.sorted().first { name in programs[name]!.contains { Glob.matches($0, relative) } }
  }

  public static func load(path: String) throws -> Configuration {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw Problem(path: path, line: nil, problem: "cannot read configuration file")
    }
    let text = String(decoding: data, as: UTF8.self)
    let node: Node?
    do { node = try Yams.compose(yaml: text) } catch {
      throw Problem(path: path, line: nil, problem: "not valid YAML: \(error)")
    }
    var configuration = Configuration()
    configuration.path = path
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
            return pattern
          }
        }
      case "exclude":
        guard let list = value.sequence else { throw fail(value, "'exclude' must be a list of paths") }
        configuration.exclude = try list.map {
          guard let pattern = $0.string else { throw fail($0, "'exclude' entries must be strings") }
          return pattern
        }
      default:
        throw fail(key, "unknown key '\(name)' (known: \(keys.joined(separator: ", ")))")
      }
    }
    return configuration
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
