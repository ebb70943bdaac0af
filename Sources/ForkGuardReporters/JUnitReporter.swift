import ForkGuardCore
import Foundation

/// JUnit XML, for CI systems that show test reports (GitLab, Jenkins, Azure): one failed
/// testcase per finding, named by its place and classed by its rule, with the chain in the
/// failure's text. A clean run is one passing testcase, so the report is never empty.
public struct JUnitReporter: Reporter {
  public static let name = "junit"
  private let paths: PathDisplay

  public init(paths: PathDisplay, rules: [RuleDescriptor] = []) { self.paths = paths }

  public func render(_ diagnostics: [Diagnostic]) -> String {
    let findings = diagnostics.filter { $0.ruleID != nil }
    var cases: [String] = []
    for finding in findings {
      let place = "\(paths.display(finding.location.file)):\(finding.location.line):\(finding.location.column)"
      var text = "\(place): \(finding.severity.rawValue): \(finding.message) [\(finding.ruleID!)]\n"
      for note in finding.notes {
        text +=
          "\(paths.display(note.location.file)):\(note.location.line):\(note.location.column): note: \(note.message)\n"
      }
      cases.append(
        """
            <testcase classname="\(Self.escape(finding.ruleID!))" name="\(Self.escape(place))" \
        file="\(Self.escape(paths.display(finding.location.file)))" line="\(finding.location.line)">
              <failure type="\(finding.severity.rawValue)" message="\(Self.escape(finding.message))">\(Self.escape(text))</failure>
            </testcase>
        """)
    }
    if findings.isEmpty { cases.append(#"    <testcase classname="forkguard" name="no findings"/>"#) }
    let count = max(findings.count, 1)
    return """
      <?xml version="1.0" encoding="UTF-8"?>
      <testsuites name="forkguard" tests="\(count)" failures="\(findings.count)" errors="0">
        <testsuite name="forkguard" tests="\(count)" failures="\(findings.count)" errors="0" skipped="0">
      \(cases.joined(separator: "\n"))
        </testsuite>
      </testsuites>

      """
  }

  /// XML's five escapes, and no control character XML 1.0 forbids (they become U+FFFD).
  static func escape(_ text: String) -> String {
    var result = ""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": result += "&amp;"
      case "<": result += "&lt;"
      case ">": result += "&gt;"
      case "\"": result += "&quot;"
      case "'": result += "&apos;"
      case "\n", "\t", "\r": result.unicodeScalars.append(scalar)
      default:
        result.unicodeScalars.append(scalar.value < 0x20 ? "\u{FFFD}" : scalar)
      }
    }
    return result
  }
}
