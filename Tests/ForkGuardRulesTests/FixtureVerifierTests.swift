import ForkGuardCore
import ForkGuardTestSupport
import Foundation
import Testing

/// The fixture runner must fail when it should: otherwise every fixture passes vacuously.
@Suite("Fixture verifier")
struct FixtureVerifierTests {
  func fixture(_ text: String) throws -> Fixture {
    let path = Scratch.root.appendingPathComponent("fg-verify-\(UUID().uuidString).c").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return Fixture(rule: "fork-child-unsafe-call", path: path, files: [path])
  }

  func warning(_ fixture: Fixture, line: Int, rule: String = "fork-child-unsafe-call", notes: [DiagnosticNote] = [])
    -> Diagnostic
  {
    Diagnostic(
      ruleID: rule, severity: .warning,
      location: ForkGuardCore.SourceLocation(file: fixture.path, line: line, column: 1),
      message: "'malloc' is not async-signal-safe", notes: notes)
  }

  @Test func metExpectationsPass() throws {
    let f = try fixture("x(); // expected-warning {{'malloc' is not}}\n// expected-note@-1 {{child starts}}\n")
    let note = DiagnosticNote(
      location: ForkGuardCore.SourceLocation(file: f.path, line: 1, column: 1), message: "fork child starts here")
    #expect(try FixtureVerifier.verify(fixture: f, diagnostics: [warning(f, line: 1, notes: [note])]).isEmpty)
  }

  @Test func unexpectedDiagnosticFails() throws {
    let f = try fixture("// expected-no-diagnostics\n")
    let failures = try FixtureVerifier.verify(fixture: f, diagnostics: [warning(f, line: 1)])
    #expect(failures.count == 1)
    #expect(failures.first?.hasPrefix("seen but not expected") == true)
  }

  @Test func unmetExpectationFails() throws {
    let f = try fixture("x(); // expected-warning 2 {{'malloc'}}\n")
    let failures = try FixtureVerifier.verify(fixture: f, diagnostics: [warning(f, line: 1)])
    #expect(
      failures == [
        "expected but not seen (1 of 2): \((f.path as NSString).lastPathComponent):1: expected-warning {{'malloc'}}"
      ])
  }

  @Test func wrongLineFails() throws {
    let f = try fixture("x(); // expected-warning@+1 {{'malloc'}}\n\n")
    #expect(try FixtureVerifier.verify(fixture: f, diagnostics: [warning(f, line: 1)]).count == 2)
  }

  @Test func warningFromAnotherRuleMustNameIt() throws {
    let f = try fixture("x(); // expected-warning {{'malloc'}}\n")
    let failures = try FixtureVerifier.verify(fixture: f, diagnostics: [warning(f, line: 1, rule: "vfork-child")])
    #expect(failures.count == 1)
    let named = try fixture("x(); // expected-warning {{'malloc' is not async-signal-safe [vfork-child]}}\n")
    #expect(
      try FixtureVerifier.verify(fixture: named, diagnostics: [warning(named, line: 1, rule: "vfork-child")]).isEmpty)
  }

  @Test func regexExpectations() throws {
    let f = try fixture(#"x(); // expected-warning-re {{'{{[a-z]+}}' is not}}"# + "\n")
    #expect(try FixtureVerifier.verify(fixture: f, diagnostics: [warning(f, line: 1)]).isEmpty)
  }

  @Test func fixtureWithoutAnyAnnotationFails() throws {
    let f = try fixture("int x;\n")
    #expect(try FixtureVerifier.verify(fixture: f, diagnostics: []).count == 1)
  }
}
