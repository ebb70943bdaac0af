import ForkGuardCore
import Foundation

/// A versioned JSON document: `{"version": 1, "diagnostics": [...]}` with notes included.
public struct JSONReporter: Reporter {
  public static let name = "json"
  public static let schemaVersion = 1
  private let paths: PathDisplay

  public init(paths: PathDisplay, rules: [RuleDescriptor] = []) { self.paths = paths }

  struct Document: Encodable {
    var version: Int
    var tool: String
    var diagnostics: [Item]
  }
  struct Place: Encodable {
    var file: String
    var line: Int
    var column: Int
  }
  struct Note: Encodable {
    var location: Place
    var message: String
  }
  struct Context: Encodable {
    var context: String
    var notes: [Note]
  }
  struct Item: Encodable {
    var rule: String?
    var severity: String
    var location: Place
    var message: String
    var notes: [Note]
    /// The other contexts that reach the same call (left out when there are none).
    var otherContexts: [Context]?
    /// `true` for a count of findings left out (deeper chains), not a finding of its own.
    var summary: Bool?
  }

  public func render(_ diagnostics: [Diagnostic]) -> String {
    func place(_ location: SourceLocation) -> Place {
      Place(file: paths.display(location.file), line: location.line, column: location.column)
    }
    let document = Document(
      version: Self.schemaVersion, tool: "forkguard",
      diagnostics: diagnostics.map { diagnostic in
        Item(
          rule: diagnostic.ruleID, severity: diagnostic.severity.rawValue, location: place(diagnostic.location),
          message: diagnostic.message,
          notes: diagnostic.notes.map { Note(location: place($0.location), message: $0.message) },
          otherContexts: diagnostic.otherContexts.isEmpty
            ? nil
            : diagnostic.otherContexts.map { other in
              Context(
                context: other.context,
                notes: other.notes.map { Note(location: place($0.location), message: $0.message) })
            },
          summary: diagnostic.isSummary ? true : nil)
      })
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(document)) ?? Data()
    return String(decoding: data, as: UTF8.self) + "\n"
  }
}
