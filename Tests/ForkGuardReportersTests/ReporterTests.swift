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

  static let withoutLine = Diagnostic(
    ruleID: "runtime-child-deadlock", severity: .error,
    location: ForkGuardCore.SourceLocation(file: "/work/p/server", line: 0, column: 0),
    message: "'pthread_mutex_lock' of 'log_lock' in the fork child blocks forever",
    notes: [
      DiagnosticNote(
        location: ForkGuardCore.SourceLocation(file: "/work/p/server", line: 0, column: 0),
        message: "in 'main' at offset 0x1299")
    ])

  @Test func aPlaceWithoutALineIsTheFileAlone() throws {
    let text = TextReporter(paths: PathDisplay(base: "/work/p")).render([Self.withoutLine])
    #expect(
      text == """
        server: error: 'pthread_mutex_lock' of 'log_lock' in the fork child blocks forever [runtime-child-deadlock]
        server: note: in 'main' at offset 0x1299

        """)
    let sarif = SARIFReporter(paths: PathDisplay(base: "/work/p")).render([Self.withoutLine])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(sarif.utf8)) as? [String: Any])
    let result = try #require(((object["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])?.first)
    let physical = try #require(
      (result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
    #expect(physical["region"] == nil)
    #expect((physical["artifactLocation"] as? [String: Any])?["uri"] as? String == "server")
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

  @Test func aCallManyContextsReachListsThemInJSONAndSARIF() throws {
    func at(_ line: Int) -> ForkGuardCore.SourceLocation {
      ForkGuardCore.SourceLocation(file: "/work/p/log.c", line: line, column: 3)
    }
    let diagnostics = ["on_int", "on_term"].enumerated().map { index, handler in
      Diagnostic(
        ruleID: "signal-handler-unsafe-call", severity: .warning, location: at(5),
        message: "'fprintf' is not async-signal-safe",
        notes: [DiagnosticNote(location: at(10 + index), message: "'\(handler)' registered here as signal handler")],
        context: "signal handler")
    }
    let merged = Diagnostic.mergedByCallSite(diagnostics)
    #expect(merged.count == 1)
    #expect(merged[0].notes.last?.message == "also reached from 1 other signal handler; --format json lists them")
    let paths = PathDisplay(base: "/work/p")
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(JSONReporter(paths: paths).render(merged).utf8)) as? [String: Any])
    let item = try #require((json["diagnostics"] as? [[String: Any]])?.first)
    let others = try #require(item["otherContexts"] as? [[String: Any]])
    #expect(others.count == 1 && others[0]["context"] as? String == "signal handler")
    let sarif = try #require(
      try JSONSerialization.jsonObject(with: Data(SARIFReporter(paths: paths).render(merged).utf8)) as? [String: Any])
    let result = try #require(((sarif["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])?.first)
    #expect((result["codeFlows"] as? [Any])?.count == 2)
  }
}
