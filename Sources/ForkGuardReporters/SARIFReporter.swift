import ForkGuardCore
import Foundation

/// SARIF 2.1.0 as GitHub code scanning reads it: the rules in `tool.driver.rules` with their
/// pages as `help.markdown`, tags, precision and severities; one result per diagnostic with
/// the chain as `relatedLocations` (and a code flow per context); columns in UTF-16 code
/// units; paths relative to `%SRCROOT%`, the project's root whatever the working directory;
/// a fingerprint per finding, unique even when two findings share a line's text.
public struct SARIFReporter: Reporter {
  public static let name = "sarif"
  public static let documentationBase = "https://github.com/forkguard/forkguard/blob/main/"
  private let paths: PathDisplay
  private let rules: [RuleDescriptor]

  public init(paths: PathDisplay, rules: [RuleDescriptor] = []) {
    self.paths = paths
    self.rules = rules
  }

  public func render(_ diagnostics: [Diagnostic]) -> String {
    let root = SourceRoot.projectRoot(
      base: paths.base, files: diagnostics.flatMap { [$0.location.file] + $0.notes.map(\.location.file) })
    let sources = SourceRoot(root: root)
    var columns = UTF16Columns()
    let ruleIndex = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($1.id, $0) })
    func location(_ place: SourceLocation, message: String? = nil, id: Int? = nil) -> [String: Any] {
      var physical: [String: Any] = ["artifactLocation": sources.artifact(place.file)]
      // No line (a binary built without -g): the artifact alone, not an invented line 1.
      if place.line > 0 {
        var region: [String: Any] = ["startLine": place.line]
        if place.column > 0 {
          region["startColumn"] = columns.column(file: place.file, line: place.line, byte: place.column)
        }
        physical["region"] = region
      }
      var result: [String: Any] = ["physicalLocation": physical]
      if let message { result["message"] = ["text": message] }
      if let id { result["id"] = id }
      return result
    }
    var fingerprints = FingerprintCounter()
    let results: [[String: Any]] = diagnostics.map { diagnostic in
      var result: [String: Any] = [
        "ruleId": diagnostic.ruleID ?? "forkguard-note",
        "level": level(diagnostic.severity),
        "message": ["text": diagnostic.message],
        "locations": [location(diagnostic.location)],
        "partialFingerprints": [
          "primaryLocationLineHash": fingerprints.next(
            rule: diagnostic.ruleID ?? "", file: sources.relative(diagnostic.location.file),
            text: columns.lineText(file: diagnostic.location.file, line: diagnostic.location.line),
            message: diagnostic.message)
        ],
      ]
      if let id = diagnostic.ruleID, let index = ruleIndex[id] { result["ruleIndex"] = index }
      if !diagnostic.notes.isEmpty {
        result["relatedLocations"] = diagnostic.notes.enumerated().map {
          location($1.location, message: $1.message, id: $0)
        }
      }
      // A call several contexts reach: one code flow per context, from the context to the call.
      if !diagnostic.otherContexts.isEmpty {
        let chains = [diagnostic.notes] + diagnostic.otherContexts.map(\.notes)
        result["codeFlows"] = chains.map { notes -> [String: Any] in
          let steps = notes.reversed().enumerated().map { index, note in
            ["location": location(note.location, message: note.message, id: index)]
          }
          let end = ["location": location(diagnostic.location, message: diagnostic.message, id: notes.count)]
          return ["threadFlows": [["locations": steps + [end]]]]
        }
      }
      return result
    }
    let driverRules: [[String: Any]] = rules.map { rule in
      let help = "See \(rule.documentationPath) or run `forkguard explain \(rule.id)`."
      var properties: [String: Any] = [
        "tags": rule.traits.tags,
        "precision": rule.traits.precision.rawValue,
        "problem.severity": rule.traits.problemSeverity,
      ]
      if let severity = rule.traits.securitySeverity {
        properties["security-severity"] = String(format: "%.1f", severity)
      }
      return [
        "id": rule.id,
        "name": rule.id.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(),
        "shortDescription": ["text": rule.summary],
        "fullDescription": ["text": rule.summary],
        "help": ["text": help, "markdown": rule.helpMarkdown ?? help],
        "helpUri": Self.documentationBase + rule.documentationPath,
        "defaultConfiguration": ["level": rule.traits.problemSeverity == "error" ? "error" : "warning"],
        "properties": properties,
      ]
    }
    let document: [String: Any] = [
      "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
      "version": "2.1.0",
      "runs": [
        [
          "tool": [
            "driver": [
              "name": "forkguard", "version": ForkGuardVersion.current, "semanticVersion": ForkGuardVersion.current,
              "informationUri": ForkGuardVersion.informationURI, "rules": driverRules,
            ]
          ],
          "automationDetails": ["id": "forkguard/"],
          "columnKind": "utf16CodeUnits",
          "originalUriBaseIds": ["%SRCROOT%": ["uri": SourceRoot.fileURI(root) + "/"]],
          "results": results,
        ]
      ],
    ]
    let data =
      (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data()
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  private func level(_ severity: Severity) -> String {
    switch severity {
    case .error: return "error"
    case .warning: return "warning"
    case .note: return "note"
    }
  }
}
