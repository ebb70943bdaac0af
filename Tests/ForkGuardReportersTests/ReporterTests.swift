import ForkGuardCore
import ForkGuardReporters
import Foundation
import Testing

@Suite("Reporters")
struct ReporterTests {
  static let diagnostics = [
    Diagnostic(
      ruleID: "fork-child-unsafe-call", severity: .warning,
      location: ForkGuardCore.SourceLocation(file: "/work/p/src/log.c", line: 5, column: 3),
      message: "'fprintf' is not async-signal-safe",
      notes: [
        DiagnosticNote(
          location: ForkGuardCore.SourceLocation(file: "/work/p/src/spawn.c", line: 9, column: 5),
          message: "'log_line' called here from 'spawn'"),
        DiagnosticNote(
          location: ForkGuardCore.SourceLocation(file: "/elsewhere/x.c", line: 7, column: 15),
          message: "fork child starts here"),
      ]),
    Diagnostic(
      ruleID: nil, severity: .note, location: ForkGuardCore.SourceLocation(file: "/work/p/a.c", line: 1, column: 10),
      message: "parse incomplete: 'x.h' file not found"),
  ]

  @Test func textIsClangStyleWithRelativePaths() {
    let text = TextReporter(paths: PathDisplay(base: "/work/p")).render(Self.diagnostics)
    #expect(
      text == """
        src/log.c:5:3: warning: 'fprintf' is not async-signal-safe [fork-child-unsafe-call]
        src/spawn.c:9:5: note: 'log_line' called here from 'spawn'
        /elsewhere/x.c:7:15: note: fork child starts here
        a.c:1:10: note: parse incomplete: 'x.h' file not found

        """)
  }

  @Test func textMatchesTheGccProblemMatcher() throws {
    // VS Code's $gcc matcher.
    let pattern = try Regex(#"^(.*?):(\d+):(\d*):?\s+(?:fatal\s+)?(warning|error):\s+(.*)$"#)
    let first = TextReporter(paths: PathDisplay(base: "/work/p")).render(Self.diagnostics).split(separator: "\n")[0]
    let match = try #require(String(first).wholeMatch(of: pattern))
    #expect(match.output[1].substring == "src/log.c")
    #expect(match.output[4].substring == "warning")
  }

  @Test func jsonIsVersionedAndCarriesNotes() throws {
    let json = JSONReporter(paths: PathDisplay(base: "/work/p")).render(Self.diagnostics)
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    #expect(object["version"] as? Int == 1)
    let items = try #require(object["diagnostics"] as? [[String: Any]])
    #expect(items.count == 2)
    #expect(items[0]["rule"] as? String == "fork-child-unsafe-call")
    #expect((items[0]["notes"] as? [[String: Any]])?.count == 2)
    #expect((items[0]["location"] as? [String: Any])?["file"] as? String == "src/log.c")
  }
}
