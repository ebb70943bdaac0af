import ForkGuardCore
import Foundation

/// GitLab Code Quality (a JSON array of issues, the `codequality` report artifact): paths
/// relative to the project's root, severities GitLab's, and a fingerprint per finding that
/// survives line shifts and stays unique when two findings share a line's text.
public struct GitLabReporter: Reporter {
  public static let name = "gitlab"
  private let paths: PathDisplay

  public init(paths: PathDisplay, rules: [RuleDescriptor] = []) { self.paths = paths }

  public func render(_ diagnostics: [Diagnostic]) -> String {
    let findings = diagnostics.filter { $0.ruleID != nil }
    let sources = SourceRoot(
      root: SourceRoot.projectRoot(base: paths.base, files: findings.map(\.location.file)))
    var columns = UTF16Columns()
    var fingerprints = FingerprintCounter()
    let issues: [[String: Any]] = findings.map { finding in
      let file = sources.relative(finding.location.file)
      let chain = finding.notes.map { "\(sources.relative($0.location.file)):\($0.location.line): \($0.message)" }
      return [
        "type": "issue",
        "check_name": finding.ruleID!,
        "description": finding.message,
        "content": ["body": ([finding.message] + chain).joined(separator: "\n")],
        "categories": ["Bug Risk"],
        "severity": Self.severity(finding.severity),
        "fingerprint": fingerprints.next(
          rule: finding.ruleID!, file: file,
          text: columns.lineText(file: finding.location.file, line: finding.location.line),
          message: finding.message),
        "location": ["path": file, "lines": ["begin": max(finding.location.line, 1)]],
      ]
    }
    let data =
      (try? JSONSerialization.data(
        withJSONObject: issues, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("[]".utf8)
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  /// GitLab's scale: info, minor, major, critical, blocker.
  static func severity(_ severity: Severity) -> String {
    switch severity {
    case .error: return "critical"
    case .warning: return "major"
    case .note: return "info"
    }
  }
}
