import ForkGuardTestSupport
import Foundation
import XCTest

/// The three ways teams wire a linter in, each run for real: the pre-commit hook through
/// `pre-commit try-repo` (PyPI), the Action's steps through scripts/run-action.py, and the
/// SwiftPM command plugin on a fixture package that depends on forkguard.
final class CIBuildingBlockTests: XCTestCase {
  static let threadedChild = """
    #include <pthread.h>
    #include <stdio.h>
    #include <unistd.h>
    static void *work(void *argument) { return argument; }
    int main(void) {
      pthread_t thread;
      pthread_create(&thread, 0, work, 0);
      if (fork() == 0) {
        puts("child");
        _exit(0);
      }
      return 0;
    }
    """

  /// A git repository with one staged C file, and PATH leading to the forkguard under test.
  func repository(_ source: String) throws -> (URL, [String: String]) {
    let directory = Scratch.root.appendingPathComponent("fg-ci-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try source.write(to: directory.appendingPathComponent("spawn.c"), atomically: true, encoding: .utf8)
    for arguments in [["init", "-q"], ["add", "spawn.c"]] {
      XCTAssertEqual(try Command.run(["git"] + arguments, in: directory).status, 0)
    }
    var environment = ProcessInfo.processInfo.environment
    environment["PATH"] =
      CLITests.binary.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
    environment["PYTHONPATH"] = CLITests.root.appendingPathComponent(".build/python-packages").path
    environment["PRE_COMMIT_HOME"] = directory.appendingPathComponent(".pre-commit-home").path
    return (directory, environment)
  }

  func testPreCommitHookChecksTheStagedFiles() throws {
    let (directory, environment) = try repository(Self.threadedChild)
    let hook = ["python3", "-m", "pre_commit", "try-repo", CLITests.root.path, "forkguard", "--files", "spawn.c"]
    let failing = try Command.run(hook, in: directory, environment: environment)
    XCTAssertEqual(failing.status, 1, failing.stdout + failing.stderr)
    XCTAssert(failing.stdout.contains("spawn.c:9:5: warning: 'puts'"), failing.stdout)
    XCTAssert(failing.stdout.contains("forkguard (fork safety)") && failing.stdout.contains("Failed"), failing.stdout)
    try "int main(void) { return 0; }\n".write(
      to: directory.appendingPathComponent("spawn.c"), atomically: true, encoding: .utf8)
    let passing = try Command.run(hook, in: directory, environment: environment)
    XCTAssertEqual(passing.status, 0, passing.stdout + passing.stderr)
    XCTAssert(passing.stdout.contains("Passed"), passing.stdout)
  }

  func testTheActionsStepsRunAndWriteTheSARIFTheyUpload() throws {
    let (directory, environment) = try repository(Self.threadedChild)
    let script = CLITests.root.appendingPathComponent("scripts/run-action.py").path
    let run = try Command.run(["python3", script], in: directory, environment: environment)
    XCTAssertEqual(run.status, 1, run.stdout + run.stderr)
    XCTAssert(run.stdout.contains("using \(CLITests.binary.path)"), run.stdout)
    XCTAssert(
      run.stdout.contains("::warning file=spawn.c,line=9,col=5,title=forkguard%3A fork-child-unsafe-call::"), run.stdout
    )
    XCTAssert(run.stdout.contains("sarif-file=forkguard.sarif"), run.stdout)
    let validation = try Command.run([
      "python3", CLITests.root.appendingPathComponent("scripts/validate-sarif.py").path,
      directory.appendingPathComponent("forkguard.sarif").path,
    ])
    XCTAssertEqual(validation.status, 0, validation.stdout + validation.stderr)
    // fail-on never passes the step; the SARIF is still written.
    let lenient = try Command.run(
      ["python3", script, "fail-on=never", "upload-sarif=false"], in: directory, environment: environment)
    XCTAssertEqual(lenient.status, 0, lenient.stdout + lenient.stderr)
  }

  /// `swift package forkguard` in a package that depends on forkguard by path. It builds
  /// forkguard into its own scratch folder once (kept in .build/plugin-test between runs).
  func testTheSwiftPMPluginChecksAPackage() throws {
    let package = CLITests.root.appendingPathComponent("fixtures/packages/plugin-package")
    let scratch = CLITests.root.appendingPathComponent(".build/plugin-test")
    let run = try Command.run(
      ["swift", "package", "--scratch-path", scratch.path, "forkguard"], in: package)
    XCTAssertEqual(run.status, 1, run.stdout + run.stderr)
    XCTAssert(run.stdout.contains("Sources/Spawner/spawn.c:11:5: warning: 'puts'"), run.stdout + run.stderr)
    let quiet = try Command.run(
      ["swift", "package", "--scratch-path", scratch.path, "forkguard", "--fail-on", "never"], in: package)
    XCTAssertEqual(quiet.status, 0, quiet.stdout + quiet.stderr)
  }
}
