import ForkGuardTestSupport
import Foundation
import XCTest

/// What GitHub code scanning reads in the SARIF, and the version it is told.
final class CodeScanningTests: XCTestCase {
  func forkguard(_ arguments: [String], in directory: URL) throws -> Command.Output {
    try Command.run([CLITests.binary.path] + arguments, in: directory)
  }

  static let twoChildren = """
    #include <signal.h>
    #include <stdio.h>
    #include <unistd.h>
    void first(void) {
      if (fork() == 0) {
        puts("child");
        _exit(0);
      }
    }
    void second(void) {
      if (fork() == 0) {
        puts("child");
        _exit(0);
      }
    }
    static void on_term(int sig) { (void)sig; puts("bye"); }
    int main(void) { signal(SIGTERM, on_term); first(); second(); return 0; }
    """

  func testVersionIsPrintedAndCarriedInTheSARIF() throws {
    let root = FileManager.default.temporaryDirectory
    let version = try forkguard(["--version"], in: root)
    XCTAssertEqual(version.status, 0)
    XCTAssert(version.stdout.hasPrefix("forkguard "), version.stdout)
    XCTAssert(version.stdout.contains("(libclang: "), version.stdout)
    XCTAssertEqual(try forkguard(["version"], in: root).stdout, version.stdout)
  }

  func testSARIFHasWhatCodeScanningReadsFromAnyWorkingDirectory() throws {
    let project = Scratch.root.appendingPathComponent("fg-sarif-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
      at: project.appendingPathComponent(".git"), withIntermediateDirectories: true)
    try FileManager.default.createDirectory(
      at: project.appendingPathComponent("build"), withIntermediateDirectories: true)
    try FileManager.default.createDirectory(
      at: project.appendingPathComponent("src"), withIntermediateDirectories: true)
    try Self.twoChildren.write(to: project.appendingPathComponent("src/spawn.c"), atomically: true, encoding: .utf8)
    // Run from build/, as CI jobs often do.
    let run = try forkguard(
      ["check", "../src", "--threads", "always", "--format", "sarif", "--output", "out.sarif"],
      in: project.appendingPathComponent("build"))
    XCTAssertEqual(run.status, 1, run.stderr)
    let output = project.appendingPathComponent("build/out.sarif")
    let validation = try Command.run([
      "python3", CLITests.root.appendingPathComponent("scripts/validate-sarif.py").path, output.path,
    ])
    XCTAssertEqual(validation.status, 0, validation.stdout + validation.stderr)

    let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any])
    let sarifRun = try XCTUnwrap((document["runs"] as? [[String: Any]])?.first)
    let driver = try XCTUnwrap((sarifRun["tool"] as? [String: Any])?["driver"] as? [String: Any])
    let version = try forkguard(["--version"], in: project).stdout
    let number = try XCTUnwrap(driver["version"] as? String)
    XCTAssert(version.hasPrefix("forkguard \(number) "), version)
    XCTAssertEqual(driver["semanticVersion"] as? String, number)
    XCTAssertNotNil(driver["informationUri"] as? String)
    XCTAssertEqual((sarifRun["automationDetails"] as? [String: Any])?["id"] as? String, "forkguard/")
    XCTAssertEqual(sarifRun["columnKind"] as? String, "utf16CodeUnits")
    let base = try XCTUnwrap((sarifRun["originalUriBaseIds"] as? [String: Any])?["%SRCROOT%"] as? [String: Any])
    XCTAssertEqual(base["uri"] as? String, URL(fileURLWithPath: project.path).absoluteString)

    let rules = try XCTUnwrap(driver["rules"] as? [[String: Any]])
    for rule in rules {
      let id = try XCTUnwrap(rule["id"] as? String)
      let help = try XCTUnwrap(rule["help"] as? [String: Any])
      XCTAssert((help["markdown"] as? String)?.hasPrefix("# \(id)") ?? false, "\(id): help.markdown is its page")
      let properties = try XCTUnwrap(rule["properties"] as? [String: Any], id)
      XCTAssertFalse((properties["tags"] as? [String] ?? []).isEmpty, id)
      XCTAssert(["very-high", "high", "medium", "low"].contains(properties["precision"] as? String ?? ""), id)
      XCTAssert(["error", "warning", "recommendation"].contains(properties["problem.severity"] as? String ?? ""), id)
      if id == "signal-handler-unsafe-call" {
        XCTAssertEqual(properties["security-severity"] as? String, "8.1")
      }
    }

    let results = try XCTUnwrap(sarifRun["results"] as? [[String: Any]])
    let children = results.filter { $0["ruleId"] as? String == "fork-child-unsafe-call" }
    XCTAssertEqual(children.count, 2, "\(results)")
    var fingerprints = Set<String>()
    for result in results {
      let location = try XCTUnwrap(
        ((result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?["artifactLocation"]
          as? [String: Any])
      XCTAssertEqual(location["uri"] as? String, "src/spawn.c")
      XCTAssertEqual(location["uriBaseId"] as? String, "%SRCROOT%")
      let fingerprint = try XCTUnwrap(
        (result["partialFingerprints"] as? [String: Any])?["primaryLocationLineHash"] as? String)
      XCTAssert(fingerprints.insert(fingerprint).inserted, "two findings share \(fingerprint)")
    }
  }

  /// clang's byte columns become UTF-16 columns: after "é" (2 bytes, 1 unit), 1 less.
  func testColumnsAreUTF16CodeUnits() throws {
    let directory = Scratch.root.appendingPathComponent("fg-col-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let source = """
      #include <stdio.h>
      #include <unistd.h>
      void spawn(void) {
        if (fork() == 0) { /* é */ puts("child"); _exit(0); }
      }
      """
    try source.write(to: directory.appendingPathComponent("spawn.c"), atomically: true, encoding: .utf8)
    _ = try forkguard(
      ["check", "spawn.c", "--threads", "always", "--format", "sarif", "--output", "out.sarif"], in: directory)
    let text = try String(contentsOf: directory.appendingPathComponent("out.sarif"), encoding: .utf8)
    let plain = try forkguard(["check", "spawn.c", "--threads", "always"], in: directory).stdout
    XCTAssert(plain.hasPrefix("spawn.c:4:31: warning: 'puts'"), plain)
    XCTAssert(text.contains("\"startColumn\" : 30"), text)
  }

  func scratch(_ text: String) throws -> URL {
    let directory = Scratch.root.appendingPathComponent("fg-ci-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try text.write(to: directory.appendingPathComponent("spawn.c"), atomically: true, encoding: .utf8)
    try "int main(void) { return 0; }\n".write(
      to: directory.appendingPathComponent("ok.c"), atomically: true, encoding: .utf8)
    return directory
  }

  /// junitparser (PyPI) reads the report as CI test-report consumers do.
  func testJUnitIsReadByARealConsumer() throws {
    let directory = try scratch(Self.twoChildren)
    _ = try forkguard(
      ["check", "spawn.c", "--threads", "always", "--format", "junit", "--output", "f.xml"], in: directory)
    _ = try forkguard(["check", "ok.c", "--format", "junit", "--output", "ok.xml"], in: directory)
    let validation = try Command.run(
      ["python3", CLITests.root.appendingPathComponent("scripts/validate-junit.py").path, "f.xml:3", "ok.xml:0"],
      in: directory)
    XCTAssertEqual(validation.status, 0, validation.stdout + validation.stderr)
  }

  func testGitLabCodeQualityHasUniqueFingerprintsAndRelativePaths() throws {
    let directory = try scratch(Self.twoChildren)
    try FileManager.default.createDirectory(
      at: directory.appendingPathComponent(".git"), withIntermediateDirectories: true)
    try FileManager.default.createDirectory(
      at: directory.appendingPathComponent("build"), withIntermediateDirectories: true)
    let run = try forkguard(
      ["check", "../spawn.c", "--threads", "always", "--format", "gitlab"],
      in: directory.appendingPathComponent("build"))
    let issues = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
    XCTAssertEqual(issues.count, 3)
    XCTAssertEqual(Set(issues.compactMap { $0["fingerprint"] as? String }).count, 3)
    for issue in issues {
      XCTAssertEqual((issue["location"] as? [String: Any])?["path"] as? String, "spawn.c")
      XCTAssert(["major", "critical", "info"].contains(issue["severity"] as? String ?? ""))
      XCTAssertNotNil(issue["check_name"] as? String)
      XCTAssertNotNil(issue["description"] as? String)
    }
  }

  func testColourFollowsTheFlagAndNoColor() throws {
    let directory = try scratch(Self.twoChildren)
    let always = try forkguard(["check", "spawn.c", "--threads", "always", "--color", "always"], in: directory)
    XCTAssert(always.stdout.contains("\u{1b}[1;35mwarning:\u{1b}[0m"), always.stdout)
    XCTAssert(always.stdout.contains("\u{1b}[1;30mnote:\u{1b}[0m"), always.stdout)
    let never = try forkguard(["check", "spawn.c", "--threads", "always", "--color", "never"], in: directory)
    XCTAssertFalse(never.stdout.contains("\u{1b}"))
    // auto is off when the output is not a terminal (here, a pipe).
    let auto = try forkguard(["check", "spawn.c", "--threads", "always"], in: directory)
    XCTAssertFalse(auto.stdout.contains("\u{1b}"))
    XCTAssertEqual(auto.stdout, never.stdout)
    // Under script(1) the output is a terminal: auto colours, unless NO_COLOR is set.
    let command = "\(CLITests.binary.path) check spawn.c --threads always"
    var environment = ProcessInfo.processInfo.environment
    environment["TERM"] = "xterm-256color"
    environment["NO_COLOR"] = nil
    let tty = try Command.run(["script", "-qec", command, "/dev/null"], in: directory, environment: environment)
    XCTAssert(tty.stdout.contains("\u{1b}[1;35mwarning:"), tty.stdout)
    environment["NO_COLOR"] = "1"
    let noColor = try Command.run(["script", "-qec", command, "/dev/null"], in: directory, environment: environment)
    XCTAssertFalse(noColor.stdout.contains("\u{1b}[1;35m"), noColor.stdout)
    XCTAssertEqual(try forkguard(["check", "spawn.c", "--color", "sometimes"], in: directory).status, 2)
  }

  /// `--diff REF`: only findings with a step on a changed line, chains included.
  func testDiffReportsOnlyWhatTheChangeTouches() throws {
    let directory = Scratch.root.appendingPathComponent("fg-diff-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    func git(_ arguments: String...) throws {
      let run = try Command.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"] + arguments,
        in: directory)
      XCTAssertEqual(run.status, 0, run.stderr)
    }
    let old = """
      #include <stdio.h>
      #include <unistd.h>
      void log_line(void) { puts("log"); }
      void first(void) {
        if (fork() == 0) {
          puts("first");
          _exit(0);
        }
      }
      """
    try old.write(to: directory.appendingPathComponent("spawn.c"), atomically: true, encoding: .utf8)
    try git("init", "-q")
    try git("add", ".")
    try git("commit", "-q", "-m", "first")
    XCTAssertEqual(try forkguard(["check", ".", "--threads", "always", "--diff", "HEAD"], in: directory).status, 0)
    // A new child that reaches the old helper: its own puts and the helper's are reported
    // (the helper's through the chain's new step); the old child's puts is not.
    let new =
      old + """

        void second(void) {
          if (fork() == 0) {
            log_line();
            _exit(0);
          }
        }
        """
    try new.write(to: directory.appendingPathComponent("spawn.c"), atomically: true, encoding: .utf8)
    let changed = try forkguard(["check", ".", "--threads", "always", "--diff", "HEAD"], in: directory)
    XCTAssertEqual(changed.status, 1, changed.stderr)
    XCTAssert(changed.stdout.contains("spawn.c:3:23: warning: 'puts'"), changed.stdout)
    XCTAssertFalse(changed.stdout.contains("spawn.c:6:5: warning"), changed.stdout)
    let all = try forkguard(["check", ".", "--threads", "always"], in: directory)
    XCTAssert(all.stdout.contains("spawn.c:6:5: warning: 'puts'"), all.stdout)
    // A file git does not track yet is wholly new.
    try old.write(to: directory.appendingPathComponent("other.c"), atomically: true, encoding: .utf8)
    let untracked = try forkguard(["check", ".", "--threads", "always", "--diff", "HEAD"], in: directory)
    XCTAssert(untracked.stdout.contains("other.c:6:5: warning: 'puts'"), untracked.stdout)
    let bad = try forkguard(["check", ".", "--diff", "no-such-revision"], in: directory)
    XCTAssertEqual(bad.status, 2)
    XCTAssert(bad.stderr.contains("--diff: git diff failed"), bad.stderr)
  }
}
