import ForkGuardRuntime
import ForkGuardTestSupport
import Foundation
import Testing

/// Reports reach `forkguard run` while the program runs, not when it ends.
@Suite("Live reports", .serialized)
struct LiveReportTests {
  @Test func aReportArrivesWhileTheProgramStillRuns() throws {
    let library = try #require(RuntimeFixtureTests.library, "build the preload library with scripts/build-preload.sh")
    let directory = RuntimeFixtureTests.buildDirectory
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let program = directory.appendingPathComponent("report-then-wait").path
    let source = Fixture.root.appendingPathComponent("fixtures/stress/report-then-wait.c").path
    let build = try Command.run(["cc", "-g", "-O0", "-pthread", "-o", program, source])
    #expect(build.status == 0, "\(build.stderr)")
    let pidFile = directory.appendingPathComponent("report-then-wait.pid").path
    try? FileManager.default.removeItem(atPath: pidFile)

    // The program never ends by itself: only the live callback stops it. Were reports
    // read at the end only, `timeout` would kill it after 60 s (status 124).
    setenv("SWIFT_BACKTRACE", "enable=no", 1)
    let options = RuntimeRun.Options(
      program: try RuntimeFixtureTests.cleanSignals(), arguments: ["/usr/bin/timeout", "60", program, pidFile],
      library: library)
    var seen: [String] = []
    let result = try RuntimeRun.run(options) { diagnostic in
      seen.append(diagnostic.message)
      if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
        let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
      {
        kill(pid, SIGTERM)
      }
    }
    #expect(result.exitStatus == 128 + SIGTERM, "the program was stopped by the live callback")
    #expect(seen.count == 1 && seen[0].contains("'cache_lock'"), "\(seen)")
    #expect(result.diagnostics.count == 1)
  }

  /// The run ends with the program: a child it leaves running (a daemon) does not hold the
  /// pipe the launcher passes reports on, which only the launcher has.
  @Test func aChildLeftRunningDoesNotKeepTheRunGoing() throws {
    let library = try #require(RuntimeFixtureTests.library, "build the preload library with scripts/build-preload.sh")
    let started = Date()
    let result = try RuntimeRun.run(
      RuntimeRun.Options(program: "/bin/sh", arguments: ["-c", "sleep 30 >/dev/null 2>&1 &"], library: library))
    #expect(result.exitStatus == 0)
    #expect(Date().timeIntervalSince(started) < 20)
  }
}
