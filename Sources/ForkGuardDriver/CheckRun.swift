import Dispatch
import ForkGuardC
import ForkGuardCore
import ForkGuardRules
import ForkGuardSwift
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
    /// Applies to every file; without it each file uses the nearest `.forkguard.yml`.
    public var configurationPath: String?
    /// Look for `.forkguard.yml` files when no path is given.
    public var searchesConfiguration = true
    public var reportUnverifiable = false
    /// Report every finding however deep its chain (nil: AnalysisOptions' default).
    public var maxChainDepth: Int? = AnalysisOptions.defaultMaxChainDepth
    /// nil: the configuration's setting, else `always`.
    public var threads: AnalysisOptions.Threads?
    public var reportUnusedSuppressions = false
    public var baselinePath: String?
    /// `--diff REF`: report only findings with a step on a line changed since REF.
    public var diffRevision: String?
    public var writeBaselinePath: String?
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    public var rules: [any Rule] = RuleRegistry.all
    /// Parse every file, not only those that can reach a fork, handler, thread or lock
    /// (which finds the same; it also reports parse problems in the others).
    public var parsesEveryFile = false
    /// Where per-file facts are cached; nil for the default (see FactsCache.defaultDirectory).
    public var cacheDirectory: String?
    public var usesCache = true
    /// Analyse only the files whose index (in sorted order) is `index` modulo `count`.
    public var shard: (index: Int, count: Int)?
    /// Write the parsed facts here and stop before the rules (a shard's job).
    public var writeFactsPath: String?
    /// Facts written by shards, merged before the rules run.
    public var factsPaths: [String] = []
    /// Editor buffers that differ from the files on disk, by absolute path.
    public var unsavedFiles: [String: String] = [:]
    /// Called with each phase's name and its wall time in seconds (`--timings`).
    public var timings: ((String, Double) -> Void)?
    /// Called as files finish parsing: (done, total).
    public var progress: (@Sendable (Int, Int) -> Void)?

    public init(paths: [String], base: String = FileManager.default.currentDirectoryPath) {
      self.paths = paths
      self.base = base
    }
  }

  public struct Result {
    /// Files whose facts came from the cache, and files parsed.
    public var cacheHits = 0
    public var parsed = 0
    /// Input files left unparsed because they cannot reach what the rules judge.
    public var notNeeded = 0
    /// Findings and tool notes, in report order.
    public var diagnostics: [Diagnostic]
    /// Inputs that could not be analysed, each naming the file and the problem.
    public var errors: [String]
    public var filesAnalysed: Int
    /// Findings the baseline accepted.
    public var baselined: Int
    /// Parsed files whose parse was incomplete, and the headers they missed most.
    public var incompleteParses = 0
    public var missingHeaders: [(header: String, files: Int)] = []
  }

  /// Problems that stop the whole run (bad configuration, unreadable database).
  public struct SetupError: Error, CustomStringConvertible {
    public var description: String
  }

  public static func run(_ options: Options) throws -> Result {
    var clock = Date()
    func phase(_ name: String) {
      let now = Date()
      options.timings?(name, now.timeIntervalSince(clock))
      clock = now
    }
    var configurations = try ConfigurationSet(options: options)
    let root = configurations.root
    // Loading the knowledge base reads and decodes its JSON: once per configuration.
    var knowledgeByConfiguration: [String: Knowledge] = [:]
    func knowledge(_ configuration: Configuration) throws -> Knowledge {
      if let known = knowledgeByConfiguration[configuration.path ?? ""] { return known }
      let loaded = try Self.knowledge(configuration, options)
      knowledgeByConfiguration[configuration.path ?? ""] = loaded
      return loaded
    }
    let parsingKnowledge = try knowledge(root)
    let database = try compilationDatabase(options)

    var errors: [String] = []
    var paths = options.paths
    if paths.isEmpty, options.factsPaths.isEmpty, let database {
      paths = database.files
      guard !paths.isEmpty else { throw SetupError(description: "\(database.path): lists no compile commands") }
    }
    var (files, problems) = InputFiles.collect(paths, base: options.base)
    errors += problems.map(\.description)
    // An editor buffer not yet saved is an input too, when it is under a folder given.
    let folders = paths.map { path in
      URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: options.base, isDirectory: true))
        .standardizedFileURL.path
    }
    let unsavedInputs = options.unsavedFiles.keys.filter { file in
      ["c", "swift"].contains((file as NSString).pathExtension) && !FileManager.default.fileExists(atPath: file)
        && folders.contains { file.hasPrefix($0 + "/") }
    }
    files = Set(files).union(unsavedInputs).sorted()
    let found = files.count
    files = try files.filter { !(try configurations.configuration(for: $0).excludes($0)) }
    // "Analysed nothing" must not look like "all clean".
    if files.isEmpty, problems.isEmpty, options.factsPaths.isEmpty, options.shard == nil {
      let excluded = found > 0 ? " (\(found) excluded by the configuration)" : ""
      errors.append("no C or Swift files found in \(paths.joined(separator: ", "))\(excluded)")
    }
    if let shard = options.shard {
      files = files.enumerated().filter { $0.offset % shard.count == shard.index - 1 }.map(\.element)
    }
    let roots = paths.map {
      URL(fileURLWithPath: $0, relativeTo: URL(fileURLWithPath: options.base, isDirectory: true))
        .standardizedFileURL.path
    }
    var includeSearch = IncludeDirectories(roots: roots)
    // A SwiftPM package: every C target's public headers are visible to the others.
    let packages = roots.compactMap(PackageManifest.init(packageRoot:))
    func packageIncludes(_ file: String) -> [String] {
      packages.filter { file.hasPrefix($0.root + "/") }.flatMap(\.includeDirectories)
    }
    let features = LibraryFeatures.header(parsingKnowledge).map { ["-include", $0] } ?? []
    let defaultArguments = Dictionary(
      uniqueKeysWithValues: files.map { file in
        let directories = includeSearch.directories(for: file)
        return (
          file,
          CFrontEnd.defaultArguments(
            for: file, includeDirectories: directories + packageIncludes(file).filter { !directories.contains($0) })
            + features
        )
      })

    let cache =
      options.usesCache
      ? FactsCache(
        directory: options.cacheDirectory ?? FactsCache.defaultDirectory(base: options.base),
        salt: ForkGuardVersion.current + "|" + BuildIdentity.current + "|" + parsingKnowledge.parsingFingerprint)
      : nil
    func arguments(for file: String) -> [String] {
      if let arguments = database?.parseArguments(for: file) { return arguments + options.extraArguments }
      return CFrontEnd.arguments(defaults: defaultArguments[file]!, userFlags: options.extraArguments)
    }
    let inputFiles = files
    // Shards write facts for others to merge, so they cannot know what those will need.
    var demand: ParseDemand?
    if !options.parsesEveryFile, options.shard == nil, options.writeFactsPath == nil, options.factsPaths.isEmpty {
      let knowledges = try [parsingKnowledge] + configurations.groups(of: files).map { try knowledge($0) }
      demand = ParseDemand(
        files: files, arguments: arguments(for:), unsaved: options.unsavedFiles, knowledges: knowledges)
      phase("scan")
    }
    let outcomes = parse(
      files, jobs: options.jobs, knowledge: parsingKnowledge, unsaved: options.unsavedFiles, cache: cache,
      demand: demand, progress: options.progress, arguments: arguments(for:))
    cache?.prune(limit: 4 * files.count + 32)
    phase("parse (\(outcomes.count) of \(files.count) files)")
    var facts: [FileFacts] = []
    var diagnostics: [Diagnostic] = []
    var incompleteParses = 0
    var missingHeaders: [String: Int] = [:]
    for (_, outcome) in outcomes {
      switch outcome {
      case .success(let fileFacts):
        facts.append(fileFacts)
        if let problem = fileFacts.parseProblem {
          incompleteParses += 1
          for header in Set(problem.missingHeaders) { missingHeaders[header, default: 0] += 1 }
          let more = problem.errorCount > 1 ? " (and \(problem.errorCount - 1) more errors)" : ""
          diagnostics.append(
            Diagnostic(
              ruleID: nil, severity: .note, location: problem.location,
              message: "parse incomplete: \(problem.message)\(more); analysed as far as clang recovered"))
        }
      case .failure(let error):
        // Named as the user named it: relative to where forkguard runs.
        let text = "\(error)"
        let base = options.base.hasSuffix("/") ? options.base : options.base + "/"
        errors.append(text.hasPrefix(base) ? String(text.dropFirst(base.count)) : text)
      }
    }
    if let path = options.writeFactsPath {
      try FactsFile(facts: facts).write(to: path)
      return Result(
        cacheHits: cache?.hits ?? 0, parsed: outcomes.count - (cache?.hits ?? 0), diagnostics: diagnostics,
        errors: errors, filesAnalysed: facts.count, baselined: 0)
    }
    for path in options.factsPaths {
      let loaded = try FactsFile.load(path: path)
      let known = Set(facts.map(\.path))
      facts += loaded.facts.filter { !known.contains($0.path) }
    }
    // Configurations and suppressions apply to every input, parsed or not: a finding in a
    // header follows the header's configuration even when no file of that one was parsed.
    files = Set(facts.map(\.path)).union(inputFiles).sorted()
    phase("load facts")

    // Rules run once per configuration in force (usually one); each keeps the findings in
    // the files that configuration governs, at the severity it sets.
    var policy = parsingKnowledge.linkPolicy
    // Programs named by hand, in the configuration that applies where forkguard runs; else
    // the build's own link information, where a build folder has it.
    let rootConfiguration = configurations.root
    if !rootConfiguration.programs.isEmpty {
      policy.programOf = { rootConfiguration.program(of: $0) }
    } else if let programs = try linkedPrograms(options) {
      policy.programOf = { programs[$0] }
    }
    let privateLibraryFiles = AutomakeLibraries.privateLibraryFiles(under: roots)
    policy.isPrivateLibraryFile = { privateLibraryFiles.contains($0) }
    let program = ProgramGraph(files: facts, policy: policy)
    phase("program graph")
    var findings: [Diagnostic] = []
    // The analyses recurse over function bodies as deep as the source nests.
    try DeepStack.run {
      for group in try configurations.groups(of: files) {
        let input = AnalysisInput(
          program: program, knowledge: try knowledge(group),
          options: AnalysisOptions(
            reportUnverifiable: options.reportUnverifiable, threads: options.threads ?? group.threads ?? .auto,
            maxChainDepth: options.maxChainDepth), phase: phase)
        var seen = Set<Diagnostic>()
        for rule in options.rules {
          rule.check(input) { diagnostic in
            guard seen.insert(diagnostic).inserted,
              (try? configurations.configuration(for: diagnostic.location.file).path) == group.path
            else { return }
            var adjusted = diagnostic
            if let setting = group.ruleSeverities[rule.id] {
              guard let severity = setting else { return }
              adjusted.severity = severity
            }
            findings.append(adjusted)
          }
        }
      }
    }

    findings = Diagnostic.mergedByCallSite(findings)
    phase("rules")
    // Suppressions in the analysed files and in any file a finding points into.
    var suppressionFiles = Set(files)
    suppressionFiles.formUnion(findings.map(\.location.file))
    var suppressions: [Suppression] = []
    for file in suppressionFiles.sorted() {
      guard let text = options.unsavedFiles[file] ?? (try? String(contentsOfFile: file, encoding: .utf8)),
        text.contains(SuppressionScanner.marker)
      else { continue }
      let scanned = SuppressionScanner.scan(file: file, text: text)
      suppressions += scanned.suppressions
      diagnostics += scanned.problems
    }
    findings = findings.filter { finding in
      guard let index = suppressions.firstIndex(where: { $0.covers(finding) }) else { return true }
      suppressions[index].used = true
      return false
    }
    if options.reportUnusedSuppressions {
      for suppression in suppressions where !suppression.used {
        diagnostics.append(
          Diagnostic(
            ruleID: "unused-suppression", severity: .warning, location: suppression.location,
            message:
              "suppression of '\(suppression.rules.sorted().joined(separator: ","))' matches no finding; remove it"))
      }
    }

    func absolute(_ path: String) -> String {
      URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: options.base, isDirectory: true))
        .standardizedFileURL.path
    }
    if let path = options.writeBaselinePath {
      var keyer = BaselineKeyer(base: Baseline.projectRoot(of: absolute(path)), program: program)
      var counts: [Baseline.Entry: Int] = [:]
      for finding in findings { if let key = keyer.key(finding) { counts[key, default: 0] += 1 } }
      let entries = counts.map { key, count in
        var entry = key
        entry.count = count
        return entry
      }.sorted { ($0.file, $0.rule, $0.function, $0.text) < ($1.file, $1.rule, $1.function, $1.text) }
      do { try Baseline(version: Baseline.version, findings: entries).write(to: path) } catch {
        throw SetupError(description: "\(error)")
      }
    }
    if let revision = options.diffRevision {
      let changed: ChangedLines
      do { changed = try ChangedLines(since: revision, in: options.base) } catch {
        throw SetupError(description: "\(error)")
      }
      // A finding belongs to the change when its call or any step of its chain (any
      // context's) is on a changed line: editing a helper deep in the chain counts.
      findings = findings.filter { finding in
        let places =
          [finding.location] + finding.notes.map(\.location)
          + finding.otherContexts.flatMap { $0.notes.map(\.location) }
        return places.contains { changed.contains(file: $0.file, line: $0.line) }
      }
    }
    var baselined = 0
    if let path = options.baselinePath {
      let baseline: Baseline
      do { baseline = try Baseline.load(path: path) } catch { throw SetupError(description: "\(error)") }
      var keyer = BaselineKeyer(base: Baseline.projectRoot(of: absolute(path)), program: program)
      var remaining: [Baseline.Entry: Int] = [:]
      for entry in baseline.findings {
        var key = entry
        key.count = 1
        remaining[key, default: 0] += entry.count
      }
      findings = findings.filter { finding in
        guard let key = keyer.key(finding), let left = remaining[key], left > 0 else { return true }
        remaining[key] = left - 1
        baselined += 1
        return false
      }
    }

    diagnostics += findings
    diagnostics.sort(by: Diagnostic.reportOrder)
    phase("suppressions and baseline")
    var result = Result(
      cacheHits: cache?.hits ?? 0, parsed: outcomes.count - (cache?.hits ?? 0),
      notNeeded: inputFiles.count - outcomes.count, diagnostics: diagnostics, errors: errors,
      filesAnalysed: facts.count + inputFiles.count - outcomes.count, baselined: baselined)
    result.incompleteParses = incompleteParses
    result.missingHeaders = missingHeaders.map { (header: $0.key, files: $0.value) }.sorted {
      ($1.files, $0.header) < ($0.files, $1.header)
    }
    return result
  }

  private static func knowledge(_ configuration: Configuration, _ options: Options) throws -> Knowledge {
    do {
      return try Knowledge(
        profile: options.profile ?? configuration.profile ?? .posix2024, overrides: configuration.overrides)
    } catch {
      throw SetupError(description: "\(error)")
    }
  }

  /// Programs from meson's or CMake's build information in `-p`'s folder or `build/`.
  private static func linkedPrograms(_ options: Options) throws -> [String: String]? {
    let base = URL(fileURLWithPath: options.base, isDirectory: true)
    var folders = [base.appendingPathComponent("build").path]
    if let directory = options.compilationDatabaseDirectory {
      let path = URL(fileURLWithPath: directory, relativeTo: base).standardizedFileURL.path
      folders.insert(path.hasSuffix(".json") ? (path as NSString).deletingLastPathComponent : path, at: 0)
    }
    do { return try BuildTargets.programs(in: folders) } catch { throw SetupError(description: "\(error)") }
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

  /// Parses files on `jobs` threads, each with its own libclang index: every file, or those
  /// `demand` asks for as it learns what the rules can reach. Results come in file order,
  /// so output does not depend on scheduling.
  static func parse(
    _ files: [String], jobs: Int, knowledge: Knowledge, unsaved: [String: String] = [:], cache: FactsCache? = nil,
    demand: ParseDemand? = nil, progress: (@Sendable (Int, Int) -> Void)?,
    arguments: @escaping (String) -> [String]
  ) -> [(index: Int, result: Swift.Result<FileFacts, Error>)] {
    let results = FactsByFile()
    let queue = ParseQueue(
      initial: demand?.initial ?? Array(files.indices),
      whenFinished: { result in
        guard let demand, case .success(let facts) = result else { return [] }
        return demand.needed(after: facts)
      },
      whenIdle: { demand?.neededWhenSettled() ?? [] })
    let unsavedHeader = unsaved.keys.contains { !$0.hasSuffix(".c") && !$0.hasSuffix(".swift") }
    let workers = max(1, min(jobs, files.count))
    CFrontEnd.parseOnCallingThreads()
    let done = DispatchGroup()
    for _ in 0..<workers {
      done.enter()
      // Deeply nested C (long else-if chains, generated code) recurses deeply in libclang and
      // in the lowering: give each worker a large stack rather than Dispatch's default.
      let thread = Thread {
        defer { done.leave() }
        let frontEnd = CFrontEnd(knowledge: knowledge)
        let swiftFrontEnd = SwiftFrontEnd(knowledge: knowledge)
        while let index = queue.next() {
          let file = files[index]
          let result: Swift.Result<FileFacts, Error>
          if file.hasSuffix(".swift") {
            result = Swift.Result { FactsCoding.interned(try swiftFrontEnd.facts(for: file, text: unsaved[file])) }
          } else {
            let flags = arguments(file)
            result = Swift.Result {
              // An editor buffer is parsed afresh: its text is not what the cache saw. An open
              // header could change any file that includes it, so then nothing is cached.
              guard let cache, unsaved[file] == nil, !unsavedHeader,
                let content = FileManager.default.contents(atPath: file)
              else {
                return FactsCoding.interned(try frontEnd.facts(for: file, arguments: flags, unsaved: unsaved))
              }
              if let cached = cache.lookup(file: file, arguments: flags, content: content) { return cached }
              let facts = try frontEnd.facts(for: file, arguments: flags)
              cache.store(file: file, arguments: flags, content: content, facts: facts)
              return FactsCoding.interned(facts)
            }
          }
          results.set(index, result)
          let (done, total) = queue.finish(result)
          progress?(done, total)
        }
      }
      thread.stackSize = 256 << 20
      thread.start()
    }
    done.wait()
    return results.values
  }
}

/// Without a compilation database, headers are looked for where C projects keep them:
/// an `include/` folder beside the file or in any folder above it, up to the project's root
/// (SwiftPM's `Sources/<Target>/include`, autotools' and CMake's top-level `include/`), and
/// the project's root itself (`#include "config.h"` from a subfolder). The project's root is
/// found from the files, not from the path given, so `check src` sees what `check .` sees:
/// the highest folder above the input with a project marker, stopping at a repository's.
struct IncludeDirectories {
  let roots: [String]
  private var cache: [String: Bool] = [:]
  private var projectRoots: [String: String] = [:]
  static let projectMarkers = [
    "configure.ac", "configure", "CMakeLists.txt", "meson.build", "Package.swift", "Makefile.am", "debian",
  ]

  init(roots: [String]) { self.roots = roots }

  mutating func directories(for file: String) -> [String] {
    let inputRoot = roots.filter { file == $0 || file.hasPrefix($0 + "/") }.max { $0.count < $1.count }
    var root: String?
    if let inputRoot { root = projectRoot(above: inputRoot) }
    var result: [String] = []
    var directory = (file as NSString).deletingLastPathComponent
    while true {
      let candidate = directory + "/include"
      if exists(candidate) { result.append(candidate) }
      guard let root, directory.count > root.count, directory.hasPrefix(root) else { break }
      directory = (directory as NSString).deletingLastPathComponent
    }
    if let root, root != (file as NSString).deletingLastPathComponent { result.append(root) }
    return result
  }

  /// The project an input folder (or file) belongs to: the input's folder, or the first
  /// folder at most three levels up with a project marker, and then its parents while they
  /// have one too (a Debian tree's `debian/` beside `configure`); a repository's root ends
  /// the climb.
  private mutating func projectRoot(above input: String) -> String {
    if let known = projectRoots[input] { return known }
    let manager = FileManager.default
    func isMarked(_ directory: String) -> Bool {
      Self.projectMarkers.contains { manager.fileExists(atPath: directory + "/" + $0) }
    }
    var directory = exists(input) ? input : (input as NSString).deletingLastPathComponent
    var best = directory
    var found = false
    for level in 0..<64 {
      guard directory != "/", !directory.isEmpty else { break }
      let marked = isMarked(directory)
      if marked {
        best = directory
        found = true
      } else if found || level >= 3 {
        break
      }
      if manager.fileExists(atPath: directory + "/.git") { break }
      directory = (directory as NSString).deletingLastPathComponent
    }
    projectRoots[input] = best
    return best
  }

  private mutating func exists(_ path: String) -> Bool {
    if let known = cache[path] { return known }
    var isDirectory: ObjCBool = false
    let found = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    cache[path] = found
    return found
  }
}

/// The configuration of every file: `--config` for all, or the nearest `.forkguard.yml`
/// above each file refining those above it (up to one with `root: true`), or none. Each
/// file is loaded once.
struct ConfigurationSet {
  let explicit: Configuration?
  let searches: Bool
  let root: Configuration
  private var byDirectory: [String: String?] = [:]
  private var effective: [String: Configuration] = [:]

  init(options: CheckRun.Options) throws {
    searches = options.searchesConfiguration
    var effective: [String: Configuration] = [:]
    do {
      explicit = try options.configurationPath.map(Configuration.load(path:))
      if let explicit {
        root = explicit
      } else if searches, let path = Configuration.find(from: options.base) {
        root = try Self.effective(path, cache: &effective)
      } else {
        root = Configuration()
      }
    } catch {
      throw CheckRun.SetupError(description: "\(error)")
    }
    self.effective = effective
  }

  /// The configuration at `path` over everything it inherits.
  private static func effective(_ path: String, cache: inout [String: Configuration]) throws -> Configuration {
    if let known = cache[path] { return known }
    var configuration = try Configuration.load(path: path)
    let folder = (path as NSString).deletingLastPathComponent
    let above = (folder as NSString).deletingLastPathComponent
    if !configuration.isRoot, above != folder, let parentPath = Configuration.find(from: above) {
      configuration = configuration.refining(try effective(parentPath, cache: &cache))
    }
    cache[path] = configuration
    return configuration
  }

  mutating func configuration(for file: String) throws -> Configuration {
    if let explicit { return explicit }
    guard searches else { return root }
    let directory = (file as NSString).deletingLastPathComponent
    let path: String?
    if let known = byDirectory[directory] {
      path = known
    } else {
      path = Configuration.find(from: directory)
      byDirectory[directory] = path
    }
    guard let path else { return Configuration() }
    do {
      return try Self.effective(path, cache: &effective)
    } catch {
      throw CheckRun.SetupError(description: "\(error)")
    }
  }

  /// The distinct configurations the files use, in a stable order (none first).
  mutating func groups(of files: [String]) throws -> [Configuration] {
    var seen = Set<String>()
    var result: [Configuration] = []
    for file in files {
      let configuration = try configuration(for: file)
      if seen.insert(configuration.path ?? "").inserted { result.append(configuration) }
    }
    if result.isEmpty { result.append(root) }
    return result.sorted { ($0.path ?? "") < ($1.path ?? "") }
  }
}

/// The facts of a shard: what `--write-facts` writes and `--facts` reads back, in the
/// binary facts format (versioned by its magic).
struct FactsFile {
  var facts: [FileFacts]

  func write(to path: String) throws {
    do { try FactsCoding.encode(facts).write(to: URL(fileURLWithPath: path)) } catch {
      throw CheckRun.SetupError(description: "\(path): cannot write facts: \(error.localizedDescription)")
    }
  }

  static func load(path: String) throws -> FactsFile {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CheckRun.SetupError(description: "\(path): cannot read facts")
    }
    guard let facts = try? FactsCoding.decode(data) else {
      throw CheckRun.SetupError(description: "\(path): not forkguard facts, or written by another version")
    }
    return FactsFile(facts: facts)
  }
}

/// Runs work on a thread with a big stack: the analyses recurse as deep as the source nests
/// (a generated 20,000-deep `else if` chain), deeper than the main thread's 8 MiB allow.
enum DeepStack {
  static func run(_ body: @escaping () throws -> Void) throws {
    final class Work: @unchecked Sendable {
      var body: (() throws -> Void)?
      var error: Error?
    }
    let work = Work()
    work.body = body
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      do { try work.body?() } catch { work.error = error }
      work.body = nil
      done.signal()
    }
    thread.stackSize = 256 << 20
    thread.start()
    done.wait()
    if let error = work.error { throw error }
  }
}
