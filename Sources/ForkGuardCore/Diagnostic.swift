public enum Severity: String, Codable, Comparable, Sendable {
  case note, warning, error

  private var rank: Int {
    switch self {
    case .note: return 0
    case .warning: return 1
    case .error: return 2
    }
  }
  public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

public struct DiagnosticNote: Codable, Hashable, Sendable {
  public var location: SourceLocation
  public var message: String
  public init(location: SourceLocation, message: String) {
    self.location = location
    self.message = message
  }
}

/// One finding. Rules create these; reporters print them; nobody else formats text.
public struct Diagnostic: Codable, Hashable, Sendable {
  /// The rule id (a contract), or nil for tool notes such as an incomplete parse.
  public var ruleID: String?
  public var severity: Severity
  public var location: SourceLocation
  public var message: String
  public var notes: [DiagnosticNote]

  public init(
    ruleID: String?, severity: Severity, location: SourceLocation, message: String,
    notes: [DiagnosticNote] = []
  ) {
    self.ruleID = ruleID
    self.severity = severity
    self.location = location
    self.message = message
    self.notes = notes
  }

  /// Deterministic report order: by place, then rule, then text and notes.
  public static func reportOrder(_ a: Diagnostic, _ b: Diagnostic) -> Bool {
    if a.location != b.location { return a.location < b.location }
    if (a.ruleID ?? "") != (b.ruleID ?? "") { return (a.ruleID ?? "") < (b.ruleID ?? "") }
    if a.message != b.message { return a.message < b.message }
    return a.notes.map(\.location).lexicographicallyPrecedes(b.notes.map(\.location))
  }
}
