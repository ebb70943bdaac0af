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
    /// What the checks of one long-lived caller share (the language server's).
    public var session: CheckSession?
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

  /// One check: the phases in order, each in a file of its own. Findings and tool notes go
  /// to `report` in report order, as swift-format's linter hands its findings to a consumer;
  /// the result's `diagnostics` stays empty.
  public static func run(_ options: Options, report: (Diagnostic) -> Void) throws -> Result {
    let clock = PhaseClock(options.timings)
    let configuration = try LoadedConfiguration(options)
    clock.end("configuration")
    let inputs = try CheckInputs.collect(options, configuration: configuration)
    let arguments = ParseArguments(inputs: inputs, configuration: configuration, options: options)
    clock.end("inputs")
    let link = try LinkInformation(roots: inputs.roots, configuration: configuration, options: options)
    clock.end("link information")
    let runCache = try RunCache(
      options: options, configuration: configuration, inputs: inputs, arguments: arguments, link: link)
    // Read once: a replay compares with it, a whole run's record takes unmoved files from it.
    let lastRecord = runCache?.load()
    if let runCache,
      let replayed = RunReplay.outcome(
        of: lastRecord, runCache, inputs: inputs, arguments: arguments, configuration: configuration,
        options: options)
    {
      clock.end("replay (\(replayed.reparsed) re-parsed)")
      return try replay(replayed, inputs: inputs, options: options, clock: clock, report: report)
    }
    if runCache != nil { clock.end("run record (no replay)") }
    let parsed = try FactsParsing.run(
      inputs, arguments: arguments, configuration: configuration, options: options, clock: clock)
    var result = Result(
      cacheHits: parsed.cacheHits, parsed: parsed.parsed, notNeeded: parsed.notNeeded, diagnostics: [],
      errors: inputs.errors + parsed.errors, filesAnalysed: parsed.facts.count + parsed.notNeeded, baselined: 0)
    if let path = options.writeFactsPath {
      try FactsFile(facts: parsed.facts).write(to: path)
      result.notNeeded = 0
      result.filesAnalysed = parsed.facts.count
      parsed.notes.forEach(report)
      return result
    }
    // Configurations and suppressions apply to every input, parsed or not: a finding in a
    // header follows the header's configuration even when no file of that one was parsed.
    let files = Set(parsed.facts.map(\.path)).union(inputs.files).sorted()
    let program = ProgramBuilding.build(parsed.facts, link: link, configuration: configuration)
    clock.end("program graph")
    var findings: [Diagnostic] = []
    // The analyses recurse over function bodies as deep as the source nests.
    try DeepStack.run {
      let summaries = try Summarising.run(
        program, files: files, configuration: configuration, options: options, clock: clock)
      findings = RuleRunning.run(summaries, rules: options.rules, configuration: configuration)
    }
    clock.end("rules")
    let filtered = try FindingFilters.apply(findings, files: files, program: program, options: options)
    clock.end("suppressions and baseline")
    if let runCache,
      let record = runCache.record(
        inputs: inputs.files, facts: parsed.facts, previous: lastRecord,
        outcome: RunRecord.Outcome(
          findings: findings, notes: parsed.notes, parseErrors: parsed.errors, parsedFiles: parsed.facts.count,
          notNeeded: parsed.notNeeded, incompleteParses: parsed.incompleteParses,
          missingHeaders: parsed.missingHeaders.map { RunRecord.MissingHeader(header: $0.header, files: $0.files) }))
    {
      runCache.store(record)
      clock.end("run record")
    }
    result.baselined = filtered.baselined
    result.incompleteParses = parsed.incompleteParses
    result.missingHeaders = parsed.missingHeaders
    (parsed.notes + filtered.notes + filtered.findings).sorted(by: Diagnostic.reportOrder).forEach(report)
    return result
  }

  /// The rest of a check whose outcome was replayed: suppressions (their comments are not in
  /// the facts) and the report.
  private static func replay(
    _ replayed: RunReplay.Replayed, inputs: CheckInputs, options: Options, clock: PhaseClock,
    report: (Diagnostic) -> Void
  ) throws -> Result {
    let outcome = replayed.outcome
    let filtered = try FindingFilters.apply(outcome.findings, files: inputs.files, program: nil, options: options)
    clock.end("suppressions and baseline")
    var result = Result(
      cacheHits: outcome.parsedFiles - replayed.reparsed, parsed: replayed.reparsed, notNeeded: outcome.notNeeded,
      diagnostics: [], errors: inputs.errors + outcome.parseErrors,
      filesAnalysed: outcome.parsedFiles + outcome.notNeeded, baselined: filtered.baselined)
    result.incompleteParses = outcome.incompleteParses
    result.missingHeaders = outcome.missingHeaders.map { ($0.header, $0.files) }
    (outcome.notes + filtered.notes + filtered.findings).sorted(by: Diagnostic.reportOrder).forEach(report)
    return result
  }

  /// One check, its diagnostics collected in the result.
  public static func run(_ options: Options) throws -> Result {
    var diagnostics: [Diagnostic] = []
    var result = try run(options) { diagnostics.append($0) }
    result.diagnostics = diagnostics
    return result
  }
}
