/// Options that change what rules report, shared by all of them.
public struct AnalysisOptions: Sendable {
  /// Whether fork children are judged as children of a multithreaded process.
  public enum Threads: String, Sendable, CaseIterable {
    /// Always (POSIX's rule for any process that may have threads; the default, right for
    /// libraries, whose host may start threads forkguard never sees).
    case always
    /// Only when the analysed code starts a thread (pthread_create, thrd_create…); for
    /// single-threaded programs, where a fork child may call anything.
    case auto
  }

  /// Report calls to functions with no definition and no data.
  public var reportUnverifiable: Bool
  public var threads: Threads

  public init(reportUnverifiable: Bool = false, threads: Threads = .always) {
    self.reportUnverifiable = reportUnverifiable
    self.threads = threads
  }
}

/// What a rule runs on: the linked program and the knowledge base.
public struct AnalysisInput: Sendable {
  public let program: ProgramGraph
  public let knowledge: Knowledge
  public let options: AnalysisOptions
  /// Lock summaries, shared by the lock rules.
  public let locks: LockAnalysis

  public init(program: ProgramGraph, knowledge: Knowledge, options: AnalysisOptions) {
    self.program = program
    self.knowledge = knowledge
    self.options = options
    self.locks = LockAnalysis(program: program, knowledge: knowledge)
  }
}

/// A check. One rule, one file, one docs page (`docs/rules/<id>.md`), one fixtures folder.
public protocol Rule: Sendable {
  /// The stable id users suppress by and CI greps for.
  var id: String { get }
  /// One line, for `forkguard rules` and SARIF's shortDescription.
  var summary: String { get }
  func check(_ input: AnalysisInput, report: (Diagnostic) -> Void)
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

  public init(id: String, summary: String, kind: Kind) {
    self.id = id
    self.summary = summary
    self.kind = kind
  }

  /// The rule's page, relative to the repository root.
  public var documentationPath: String { "docs/rules/\(id).md" }
}
