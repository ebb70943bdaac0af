/// Options that change what rules report, shared by all of them.
public struct AnalysisOptions: Sendable {
  /// Whether fork children are judged as children of a multithreaded process.
  public enum Threads: String, Sendable, CaseIterable {
    /// Always: POSIX's letter for any process, whether or not a thread can run at the fork.
    case always
    /// When a thread may be running at the fork (`ThreadsAtFork`): a thread start can come
    /// before it in its program, or no `main` reaches it (library code). The default.
    case auto
  }

  /// Report calls to functions with no definition and no data.
  public var reportUnverifiable: Bool
  public var threads: Threads
  /// Findings more calls deep below their context than this are counted in one note per
  /// context instead of reported one by one (nil: all reported). So deep a chain mostly
  /// runs through conditions the analysis does not follow.
  public var maxChainDepth: Int?
  public static let defaultMaxChainDepth = 8

  public init(reportUnverifiable: Bool = false, threads: Threads = .auto, maxChainDepth: Int? = defaultMaxChainDepth) {
    self.reportUnverifiable = reportUnverifiable
    self.threads = threads
    self.maxChainDepth = maxChainDepth
  }
}

/// What a rule runs on: the linked program and the knowledge base.
public struct AnalysisInput: Sendable {
  public let program: ProgramGraph
  public let knowledge: Knowledge
  public let options: AnalysisOptions
  /// What calls do to the process, and where each fork child runs.
  public let process: ProcessModel
  /// Whether a thread may be running at each fork.
  public let threads: ThreadsAtFork
  /// Lock summaries, shared by the lock rules.
  public let locks: LockAnalysis
  /// Which programs may leave the "C" locale (`Knowledge.localeSetters`).
  public let leavesCLocale: ProgramReach
  /// Which programs may start a thread at some point of their run.
  public let startsThreads: ProgramReach
  /// Which programs may give stderr a buffer, or reopen it (`Knowledge.mayBufferStderr`).
  public let buffersStderr: ProgramReach

  /// `phase` is called after each analysis with its name, for `--timings`.
  public init(
    program: ProgramGraph, knowledge: Knowledge, options: AnalysisOptions, phase: (String) -> Void = { _ in }
  ) {
    self.program = program
    self.knowledge = knowledge
    self.options = options
    self.process = ProcessModel(program: program, knowledge: knowledge)
    phase("process model")
    self.threads = ThreadsAtFork(program: program, process: process, knowledge: knowledge)
    phase("threads at forks")
    self.locks = LockAnalysis(program: program, process: process, knowledge: knowledge)
    phase("lock summaries (\(locks.flowRuns) flows)")
    let setters = knowledge.localeSetters
    self.leavesCLocale = ProgramReach(program: program) { function in
      // By name, wherever it resolves (bash's lib/intl defines its own `textdomain`), and
      // by spelling where a run without config.h took the call away.
      !function.spelledLocaleSetters.isEmpty
        || function.calls.contains { $0.symbol != nil && setters.contains($0.callee) }
    }
    let starts = program.registrations.filter { $0.kind == .threadStart }
    // By symbol and file: every program's `main` registers under the same symbol.
    let threadStarters = Set(starts.compactMap { start in start.registeringSymbol.map { [$0, start.location.file] } })
    // A start registered outside any function (Swift top-level code) runs from an entry.
    let startsAtTopLevel = starts.contains { $0.registeringSymbol == nil }
    self.startsThreads = ProgramReach(program: program) { function in
      threadStarters.contains([SymbolSpelling.linked(function.symbol), function.location.file])
        || (startsAtTopLevel && SymbolSpelling.isProgramEntry(function.symbol, name: function.name))
        || function.calls.contains { $0.symbol != nil && knowledge.startsThread($0.callee) }
    }
    self.buffersStderr = ProgramReach(program: program) { function in
      function.calls.contains { knowledge.mayBufferStderr($0) && program.definition(of: $0) == nil }
        || function.nonLocalWrites.contains { $0.target == .global && $0.text == "stderr" }
    }
  }

  /// Whether the rules judge this fork's child as the child of a multithreaded process,
  /// and the note that says why.
  public func multithreadedReason(atForkAt location: SourceLocation) -> (Bool, DiagnosticNote?) {
    if options.threads == .always { return (true, nil) }
    switch threads.reason(atForkAt: location) {
    case nil:
      return (false, nil)
    case .library:
      // POSIX's letter, and what a library's host may do: nothing more to say.
      return (true, nil)
    case .threadStartedBefore(let start):
      return (
        true, DiagnosticNote(location: start, message: "a thread may be running at the fork: one is started here")
      )
    }
  }
}

/// A check. One rule, one file, one docs page (`docs/rules/<id>.md`), one fixtures folder.
public protocol Rule: Sendable {
  /// The stable id users suppress by and CI greps for.
  var id: String { get }
  /// One line, for `forkguard rules` and SARIF's shortDescription.
  var summary: String { get }
  func check(_ input: AnalysisInput, report: (Diagnostic) -> Void)
  /// How code scanning should file and rank the rule's findings.
  var traits: CodeScanningTraits { get }
}

/// What GitHub code scanning (and SARIF consumers like it) read about a rule besides its
/// text: tags, how often its findings are right, and how grave a security risk they are.
public struct CodeScanningTraits: Sendable, Hashable {
  /// SARIF's `properties.precision`.
  public enum Precision: String, Sendable {
    case veryHigh = "very-high"
    case high, medium, low
  }
  public var tags: [String]
  public var precision: Precision
  /// CVSS-style 0.0…10.0, for findings that are security risks (`security-severity`).
  public var securitySeverity: Double?
  /// `problem.severity`: error, warning or recommendation.
  public var problemSeverity: String

  public init(
    tags: [String], precision: Precision, securitySeverity: Double? = nil, problemSeverity: String = "warning"
  ) {
    self.tags = tags
    self.precision = precision
    self.securitySeverity = securitySeverity
    self.problemSeverity = problemSeverity
  }
}

/// What reporters and `forkguard rules` need to know of a rule, static or runtime.
public struct RuleDescriptor: Sendable, Hashable {
  public enum Kind: String, Sendable {
    case staticAnalysis = "static"
    case runtime
  }
  public var id: String
  public var summary: String
  public var kind: Kind
  public var traits: CodeScanningTraits
  /// The rule's documentation page, for SARIF's `help.markdown` (filled in by the CLI).
  public var helpMarkdown: String?

  public init(
    id: String, summary: String, kind: Kind,
    traits: CodeScanningTraits = CodeScanningTraits(tags: ["fork-safety"], precision: .high)
  ) {
    self.id = id
    self.summary = summary
    self.kind = kind
    self.traits = traits
  }

  /// The rule's page, relative to the repository root.
  public var documentationPath: String { "docs/rules/\(id).md" }
}
