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
  /// The kind of context the finding was reached from (`fork child`, `signal handler`),
  /// for findings that are merged when several contexts reach one call.
  public var context: String?
  /// The other contexts that reach the same call, each with its own chain of notes.
  public var otherContexts: [DiagnosticContext] = []
  /// A count of findings left out (chains deeper than `--max-chain-depth`), not a finding
  /// of its own: shown, but not counted, sampled or failed on.
  public var isSummary = false

  public init(
    ruleID: String?, severity: Severity, location: SourceLocation, message: String,
    notes: [DiagnosticNote] = [], context: String? = nil
  ) {
    self.context = context
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

/// One more way a finding is reached: its kind of context and its chain.
public struct DiagnosticContext: Codable, Hashable, Sendable {
  public var context: String
  public var notes: [DiagnosticNote]
  public init(context: String, notes: [DiagnosticNote]) {
    self.context = context
    self.notes = notes
  }
}

extension Diagnostic {
  /// One finding per call site and rule: of the findings that name the same call with the
  /// same message, the most severe with the shortest chain speaks, with a note counting the
  /// other contexts (kept whole in `otherContexts`, for JSON and SARIF).
  public static func mergedByCallSite(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
    struct Key: Hashable {
      var rule: String?
      var location: SourceLocation
      var message: String
    }
    var groups: [Key: [Diagnostic]] = [:]
    var result: [Diagnostic] = []
    for diagnostic in diagnostics {
      guard diagnostic.context != nil else {
        result.append(diagnostic)
        continue
      }
      groups[Key(rule: diagnostic.ruleID, location: diagnostic.location, message: diagnostic.message), default: []]
        .append(diagnostic)
    }
    for (_, group) in groups {
      let ordered = group.sorted { a, b in
        if a.severity != b.severity { return a.severity > b.severity }
        return a.notes.count != b.notes.count ? a.notes.count < b.notes.count : reportOrder(a, b)
      }
      var kept = ordered[0]
      let others = ordered.dropFirst()
      if !others.isEmpty {
        kept.otherContexts = others.map { DiagnosticContext(context: $0.context ?? "context", notes: $0.notes) }
        var counts: [String: Int] = [:]
        for other in others { counts[other.context ?? "context", default: 0] += 1 }
        let phrases = counts.sorted { $0.key < $1.key }.map { kind, count in
          "\(count) other \(count == 1 ? kind : plural(kind))"
        }
        kept.notes.append(
          DiagnosticNote(
            location: kept.location,
            message: "also reached from \(phrases.joined(separator: " and ")); --format json lists them"))
      }
      result.append(kept)
    }
    return result
  }

  private static func plural(_ kind: String) -> String {
    kind.hasSuffix("child") ? kind + "ren" : kind + "s"
  }
}
