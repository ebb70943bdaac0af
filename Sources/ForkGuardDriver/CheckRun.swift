import Dispatch
import ForkGuardC
import ForkGuardCore
import ForkGuardRules
import Foundation

/// One `forkguard check`: inputs to diagnostics. The CLI owns printing and exit codes;
/// this reports through return values so tests and other front ends can drive it.
public struct CheckRun {
  public struct Options {
    public var paths: [String]
    public var base: String
    public var compilationDatabaseDirectory: String?
    public var extraArguments: [String] = []
    public var profile: SafetyProfile?
    public var configurationPath: String?
    /// Look for `.forkguard.yml` upward from the base when no path is given.
    public var searchesConfiguration = true
    public var reportUnverifiable = false
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    public var rules: [any Rule] = RuleRegistry.all

    public init(paths: [String], base: String = FileManager.default.currentDirectoryPath) {
      self.paths = paths
      self.base = base
    }
  }

  public struct Result {
    /// Findings and tool notes, in report order.
    public var diagnostics: [Diagnostic]
    /// Inputs that could not be analysed, each naming the file and the problem.
    public var errors: [String]
    public var filesAnalysed: Int
  }

  /// Problems that stop the whole run (bad configuration, unreadable database).
  public struct SetupError: Error, CustomStringConvertible {
    public var description: String
  }

  public static func run(_ options: Options) throws -> Result {
    var configuration = Configuration()
    if let path = options.configurationPath
      ?? (options.searchesConfiguration ? Configuration.find(from: options.base) : nil)
    {
      do { configuration = try Configuration.load(path: path) } catch {
        throw SetupError(description: "\(error)")
      }
    }
    let knowledge: Knowledge
    do {
      knowledge = try Knowledge(
        profile: options.profile ?? configuration.profile ?? .posix2024, overrides: configuration.overrides)
    } catch {
      throw SetupError(description: "\(error)")
    }
    let database = try compilationDatabase(options)

    var errors: [String] = []
    var paths = options.paths
    if paths.isEmpty, let database {
      paths = database.files
    }
    let (files, problems) = InputFiles.collect(paths, base: options.base)
    errors += problems.map(\.description)
    let roots = paths.map {
      URL(fileURLWithPath: $0, relativeTo: URL(fileURLWithPath: options.base, isDirectory: true))
        .standardizedFileURL.path
    }
    var includeSearch = IncludeDirectories(roots: roots)
    let defaultArguments = Dictionary(
      uniqueKeysWithValues: files.map {
        ($0, CFrontEnd.defaultArguments(for: $0, includeDirectories: includeSearch.directories(for: $0)))
      })

    let outcomes = parse(files, jobs: options.jobs, knowledge: knowledge) { file in
      if let arguments = database?.parseArguments(for: file) { return arguments + options.extraArguments }
      return defaultArguments[file]! + options.extraArguments
    }
    var facts: [FileFacts] = []
    var diagnostics: [Diagnostic] = []
    for outcome in outcomes {
      switch outcome {
      case .success(let fileFacts):
        facts.append(fileFacts)
        if let problem = fileFacts.parseProblem {
          let more = problem.errorCount > 1 ? " (and \(problem.errorCount - 1) more errors)" : ""
          diagnostics.append(
            Diagnostic(
              ruleID: nil, severity: .note, location: problem.location,
              message: "parse incomplete: \(problem.message)\(more); analysed as far as clang recovered"))
        }
      case .failure(let error):
        errors.append("\(error)")
      }
    }

    let input = AnalysisInput(
      program: ProgramGraph(files: facts), knowledge: knowledge,
      options: AnalysisOptions(reportUnverifiable: options.reportUnverifiable))
    var seen = Set<Diagnostic>()
    for rule in options.rules {
      rule.check(input) { diagnostic in
        if seen.insert(diagnostic).inserted { diagnostics.append(diagnostic) }
      }
    }
    diagnostics.sort(by: Diagnostic.reportOrder)
    return Result(diagnostics: diagnostics, errors: errors, filesAnalysed: facts.count)
  }

  private static func compilationDatabase(_ options: Options) throws -> CompilationDatabase? {
    let base = URL(fileURLWithPath: options.base, isDirectory: true)
    if let directory = options.compilationDatabaseDirectory {
      var path = URL(fileURLWithPath: directory, relativeTo: base).standardizedFileURL.path
      if !path.hasSuffix(".json") { path += "/compile_commands.json" }
      do { return try CompilationDatabase(path: path) } catch { throw SetupError(description: "\(error)") }
    }
    for candidate in ["compile_commands.json", "build/compile_commands.json"] {
      let path = base.appendingPathComponent(candidate).path
      if FileManager.default.fileExists(atPath: path) {
        do { return try CompilationDatabase(path: path) } catch { throw SetupError(description: "\(error)") }
      }
    }
    return nil
  }

  /// Parses files on `jobs` threads, each with its own libclang index; results keep the
  /// order of `files`, so output does not depend on scheduling.
  static func parse(
    _ files: [String], jobs: Int, knowledge: Knowledge, arguments: @escaping (String) -> [String]
  ) -> [Swift.Result<FileFacts, Error>] {
    let results = ResultSlots<Swift.Result<FileFacts, Error>>(count: files.count)
    let next = ResultSlots<Int>(count: 1)
    next.set(0, 0)
    let workers = max(1, min(jobs, files.count))
    let done = DispatchGroup()
    for _ in 0..<workers {
      done.enter()
      // Deeply nested C (long else-if chains, generated code) recurses deeply in libclang and
      // in the lowering: give each worker a large stack rather than Dispatch's default.
      let thread = Thread {
        defer { done.leave() }
        let frontEnd = CFrontEnd(knowledge: knowledge)
        while let index = next.takeNext(below: files.count) {
          results.set(index, Swift.Result { try frontEnd.facts(for: files[index], arguments: arguments(files[index])) })
        }
      }
      thread.stackSize = 64 << 20
      thread.start()
    }
    done.wait()
    return results.values.map { $0! }
  }
}

/// Slots filled by several threads under one lock.
final class ResultSlots<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var slots: [Value?]

  init(count: Int) { slots = Array(repeating: nil, count: count) }

  func set(_ index: Int, _ value: Value) {
    lock.lock()
    slots[index] = value
    lock.unlock()
  }

  var values: [Value?] {
    lock.lock()
    defer { lock.unlock() }
    return slots
  }
}

extension ResultSlots where Value == Int {
  /// Hands out 0, 1, 2, … below `limit` from slot 0, one per call.
  func takeNext(below limit: Int) -> Int? {
    lock.lock()
    defer { lock.unlock() }
    let index = slots[0]!
    guard index < limit else { return nil }
    slots[0] = index + 1
    return index
  }
}

/// Without a compilation database, headers are looked for where C projects keep them:
/// an `include/` folder beside the file or in any folder above it, up to the input root
/// (SwiftPM's `Sources/<Target>/include`, autotools' and CMake's top-level `include/`).
struct IncludeDirectories {
  let roots: [String]
  private var cache: [String: Bool] = [:]

  init(roots: [String]) { self.roots = roots }

  mutating func directories(for file: String) -> [String] {
    let root = roots.filter { file == $0 || file.hasPrefix($0 + "/") }.max { $0.count < $1.count }
    var result: [String] = []
    var directory = (file as NSString).deletingLastPathComponent
    while true {
      let candidate = directory + "/include"
      if exists(candidate) { result.append(candidate) }
      guard let root, directory.count > root.count, directory.hasPrefix(root) else { break }
      directory = (directory as NSString).deletingLastPathComponent
    }
    return result
  }

  private mutating func exists(_ path: String) -> Bool {
    if let known = cache[path] { return known }
    var isDirectory: ObjCBool = false
    let found = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    cache[path] = found
    return found
  }
}
