import Foundation

/// clang's `-verify` comments, which Swift's compiler tests use too, so one parser serves C
/// and Swift fixtures:
///
///     call();  // expected-warning {{text}}
///     // expected-note@+1 {{text}}
///     // expected-warning@-2 2 {{text}}     (two diagnostics)
///     // expected-warning-re {{'malloc' {{.*}} \[fork-child-unsafe-call\]}}
///     // expected-no-diagnostics
///
/// Text matches as a substring of `message [rule-id]` (a regular expression with `-re`,
/// where `{{…}}` inside the text is a regex and the rest is literal).
public struct Expectation: CustomStringConvertible, Sendable {
  public enum Kind: String, Sendable { case warning, note, error }
  public var kind: Kind
  public var file: String
  public var line: Int
  public var count: Int
  public var text: String
  public var isRegex: Bool
  /// Where the comment is, for failure messages.
  public var commentLine: Int

  public var description: String {
    "\((file as NSString).lastPathComponent):\(line): expected-\(kind.rawValue)\(isRegex ? "-re" : "") {{\(text)}}"
  }

  public func matches(_ emitted: String) -> Bool {
    guard isRegex else { return emitted.contains(text) }
    return emitted.range(of: Self.regex(from: text), options: .regularExpression) != nil
  }

  /// `literal{{regex}}literal` to one regular expression.
  public static func regex(from text: String) -> String {
    var pattern = ""
    var rest = Substring(text)
    while let open = rest.range(of: "{{") {
      pattern += NSRegularExpression.escapedPattern(for: String(rest[..<open.lowerBound]))
      let afterOpen = rest[open.upperBound...]
      guard let close = afterOpen.range(of: "}}") else {
        rest = afterOpen
        break
      }
      pattern += "(?:" + afterOpen[..<close.lowerBound] + ")"
      rest = afterOpen[close.upperBound...]
    }
    return pattern + NSRegularExpression.escapedPattern(for: String(rest))
  }
}

public struct ExpectationFile {
  public var expectations: [Expectation] = []
  public var expectsNoDiagnostics = false
  public var problems: [String] = []

  private static let pattern = try! NSRegularExpression(
    pattern: #"expected-(warning|note|error)(-re)?(?:@([+-]?)(\d+))?\s*(\d+)?\s*\{\{(.*?)\}\}(?=\s*(?:$|expected-|//))"#
  )

  public init(path: String) throws {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    for (index, line) in text.components(separatedBy: "\n").enumerated() {
      let lineNumber = index + 1
      if line.contains("expected-no-diagnostics") { expectsNoDiagnostics = true }
      let range = NSRange(line.startIndex..., in: line)
      var found = false
      for match in Self.pattern.matches(in: line, range: range) {
        found = true
        func group(_ number: Int) -> String? {
          Range(match.range(at: number), in: line).map { String(line[$0]) }
        }
        var target = lineNumber
        if let offset = group(4).flatMap(Int.init) {
          switch group(3) {
          case "+": target = lineNumber + offset
          case "-": target = lineNumber - offset
          default: target = offset
          }
        }
        expectations.append(
          Expectation(
            kind: Expectation.Kind(rawValue: group(1)!)!, file: path, line: target,
            count: group(5).flatMap(Int.init) ?? 1, text: group(6)!, isRegex: group(2) != nil,
            commentLine: lineNumber))
      }
      if !found && line.range(of: #"expected-(warning|note|error)"#, options: .regularExpression) != nil {
        problems.append("\((path as NSString).lastPathComponent):\(lineNumber): cannot read this expectation")
      }
    }
    if expectsNoDiagnostics && !expectations.isEmpty {
      problems.append("\((path as NSString).lastPathComponent): expected-no-diagnostics with other expectations")
    }
  }
}
