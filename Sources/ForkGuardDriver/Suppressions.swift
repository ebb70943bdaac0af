import ForkGuardCore
import Foundation

/// `// forkguard:ignore RULE[,RULE…] -- reason` silences those rules on its own line and the
/// next; `forkguard:ignore-begin RULE… -- reason` … `forkguard:ignore-end` silences them in
/// between. The same comments serve C (`//` or `/* */`) and Swift. A suppression needs a
/// reason: one without is itself reported (`invalid-suppression`).
public struct Suppression {
  var location: SourceLocation
  var rules: Set<String>
  var reason: String?
  var lines: ClosedRange<Int>
  var used = false

  func covers(_ diagnostic: Diagnostic) -> Bool {
    guard let rule = diagnostic.ruleID else { return false }
    return diagnostic.location.file == location.file && lines.contains(diagnostic.location.line)
      && (rules.contains(rule) || rules.contains("all"))
  }
}

public enum SuppressionScanner {
  public static let marker = "forkguard:ignore"

  /// Whether the bytes contain the marker anywhere: memchr to each 'f', then a compare;
  /// no text decoding.
  static func mayHoldMarker(_ bytes: Data) -> Bool {
    let needle = Array(marker.utf8)
    return bytes.withUnsafeBytes { (haystack: UnsafeRawBufferPointer) -> Bool in
      guard let base = haystack.baseAddress, haystack.count >= needle.count else { return false }
      var offset = 0
      let last = haystack.count - needle.count
      while offset <= last {
        guard let found = memchr(base + offset, Int32(needle[0]), last - offset + 1) else { return false }
        let at = base.distance(to: UnsafeRawPointer(found))
        if memcmp(base + at, needle, needle.count) == 0 { return true }
        offset = at + 1
      }
      return false
    }
  }

  public static func scan(file: String, text: String) -> (suppressions: [Suppression], problems: [Diagnostic]) {
    var suppressions: [Suppression] = []
    var problems: [Diagnostic] = []
    var open: [(Suppression, Int)] = []
    let lines = text.components(separatedBy: "\n")
    for (index, line) in lines.enumerated() {
      guard let range = line.range(of: marker) else { continue }
      let number = index + 1
      let column = line.distance(from: line.startIndex, to: range.lowerBound) + 1
      let location = SourceLocation(file: file, line: number, column: column)
      var rest = line[range.upperBound...]
      var kind = "line"
      if rest.hasPrefix("-begin") {
        kind = "begin"
        rest = rest.dropFirst(6)
      } else if rest.hasPrefix("-end") {
        if let (begun, _) = open.popLast() {
          var block = begun
          block.lines = begun.location.line...number
          suppressions.append(block)
        } else {
          problems.append(problem(location, "'forkguard:ignore-end' without a matching 'forkguard:ignore-begin'"))
        }
        continue
      }
      // Drop a closing `*/` of a C block comment.
      var body = String(rest)
      if let close = body.range(of: "*/") { body = String(body[..<close.lowerBound]) }
      let parts = body.components(separatedBy: "--")
      let rules = Set(
        parts[0].split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init))
      let reason =
        parts.count > 1 ? parts.dropFirst().joined(separator: "--").trimmingCharacters(in: .whitespaces) : nil
      if rules.isEmpty {
        problems.append(problem(location, "suppression names no rule; write 'forkguard:ignore RULE -- reason'"))
        continue
      }
      // A misspelt id silences nothing: say so where it is written, with the likely id.
      let known = Set(Configuration.configurableRuleIDs + ["all"])
      for unknown in rules.subtracting(known).sorted() {
        let guess =
          DidYouMean.closest(to: unknown, in: Configuration.configurableRuleIDs).map { "; did you mean '\($0)'?" }
          ?? "; 'forkguard rules' lists the rules"
        problems.append(problem(location, "suppression names unknown rule '\(unknown)'\(guess)"))
      }
      if reason == nil || reason!.isEmpty {
        problems.append(
          problem(
            location,
            "suppression of '\(rules.sorted().joined(separator: ","))' gives no reason; write '-- reason' after the rules"
          ))
      }
      let suppression = Suppression(
        location: location, rules: rules, reason: reason, lines: number...min(number + 1, lines.count))
      if kind == "begin" {
        open.append((suppression, number))
      } else {
        suppressions.append(suppression)
      }
    }
    for (begun, _) in open {
      problems.append(problem(begun.location, "'forkguard:ignore-begin' without a matching 'forkguard:ignore-end'"))
    }
    return (suppressions, problems)
  }

  private static func problem(_ location: SourceLocation, _ message: String) -> Diagnostic {
    Diagnostic(ruleID: "invalid-suppression", severity: .warning, location: location, message: message)
  }
}
