import ForkGuardCore
import Foundation

/// SARIF 2.1.0: the rules in `tool.driver.rules`, one result per diagnostic with the notes
/// as `relatedLocations`, paths relative to `%SRCROOT%`.
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
    let ruleIndex = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($1.id, $0) })
    func location(_ place: SourceLocation, message: String? = nil, id: Int? = nil) -> [String: Any] {
      var physical: [String: Any] = [
        "artifactLocation": ["uri": uri(paths.display(place.file)), "uriBaseId": "%SRCROOT%"]
      ]
      // No line (a binary built without -g): the artifact alone, not an invented line 1.
      if place.line > 0 {
        var region: [String: Any] = ["startLine": place.line]
        if place.column > 0 { region["startColumn"] = place.column }
        physical["region"] = region
      }
      var result: [String: Any] = ["physicalLocation": physical]
      if let message { result["message"] = ["text": message] }
      if let id { result["id"] = id }
      return result
    }
    let results: [[String: Any]] = diagnostics.map { diagnostic in
      var result: [String: Any] = [
        "ruleId": diagnostic.ruleID ?? "forkguard-note",
        "level": level(diagnostic.severity),
        "message": ["text": diagnostic.message],
        "locations": [location(diagnostic.location)],
        "partialFingerprints": ["primaryLocationLineHash": fingerprint(diagnostic)],
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
      [
        "id": rule.id,
        "shortDescription": ["text": rule.summary],
        "fullDescription": ["text": rule.summary],
        "help": ["text": "See \(rule.documentationPath) or run `forkguard explain \(rule.id)`."],
        "helpUri": Self.documentationBase + rule.documentationPath,
        "defaultConfiguration": ["level": "warning"],
      ]
    }
    let document: [String: Any] = [
      "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
      "version": "2.1.0",
      "runs": [
        [
          "tool": ["driver": ["name": "forkguard", "informationUri": Self.documentationBase, "rules": driverRules]],
          "originalUriBaseIds": ["%SRCROOT%": ["uri": uri(paths.base) + "/"]],
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

  private func uri(_ path: String) -> String {
    let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
    return path.hasPrefix("/") ? "file://" + encoded : encoded
  }

  /// Stable across line shifts: rule, file and message, not the line number.
  private func fingerprint(_ diagnostic: Diagnostic) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in "\(diagnostic.ruleID ?? "")|\(paths.display(diagnostic.location.file))|\(diagnostic.message)".utf8 {
      hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
    }
    return String(hash, radix: 16)
  }
}
