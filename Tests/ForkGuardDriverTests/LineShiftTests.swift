import Testing

@testable import ForkGuardDriver

/// Where an edit moved a buffer's lines, checked against the definition it is read by: lines
/// split at line feeds (empty ones kept), the longest shared run at the start and at the end,
/// and the bytes of the lines before a place, each with its line feed.
@Suite("Line shifts")
struct LineShiftTests {
  struct Expected: Equatable {
    var prefix, oldChangedEnd, newChangedEnd, prefixBytes, oldSuffixByte, newSuffixByte: Int
  }

  static func byDefinition(_ old: String, _ new: String) -> Expected {
    let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var prefix = 0
    while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
    var suffix = 0
    while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] {
      suffix += 1
    }
    func bytes(_ lines: ArraySlice<String>) -> Int { lines.reduce(0) { $0 + $1.utf8.count + 1 } }
    return Expected(
      prefix: prefix, oldChangedEnd: a.count - suffix, newChangedEnd: b.count - suffix,
      prefixBytes: bytes(a[..<prefix]), oldSuffixByte: bytes(a[..<(a.count - suffix)]),
      newSuffixByte: bytes(b[..<(b.count - suffix)]))
  }

  static let body = "int main(void) {\n\tfork();\n\treturn 0;\n}\n"

  static let edits: [(String, String)] = [
    (body, body),
    (body, "/* edit */\n" + body),
    (body, body.replacingOccurrences(of: "\tfork();\n", with: "\tfork();\n\tsetsid();\n")),
    (body, body.replacingOccurrences(of: "\treturn 0;\n", with: "")),
    (body, body + "static int x;\n"),
    (body, String(body.dropLast())),
    ("", ""),
    ("", "a"),
    ("a\n\nb", "a\n\n\nb"),
    ("é\nx\n", "é\ny\n"),
    ("same\nsame\nsame\n", "same\nsame\n"),
  ]

  @Test("agrees with splitting into lines", arguments: edits.indices)
  func agreesWithTheDefinition(index: Int) {
    let (old, new) = Self.edits[index]
    let shift = LineShift(file: "/src/sshd.c", old: old, new: new)
    let found = Expected(
      prefix: shift.prefix, oldChangedEnd: shift.oldChangedEnd, newChangedEnd: shift.newChangedEnd,
      prefixBytes: shift.prefixBytes, oldSuffixByte: shift.oldSuffixByte, newSuffixByte: shift.newSuffixByte)
    #expect(found == Self.byDefinition(old, new))
  }
}
