import ForkGuardTestSupport
import Foundation
import XCTest

/// The command line as users and CI meet it: output, exit status, files named in errors.
final class CLITests: XCTestCase {
  typealias Run = Command.Output

  static let binary: URL = {
    let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    return testBinary.appendingPathComponent("forkguard")
  }()
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  func forkguard(_ arguments: [String], in directory: URL = CLITests.root) throws -> Run {
    try Self.forkguard(arguments, in: directory)
  }

  static func forkguard(_ arguments: [String], in directory: URL = CLITests.root) throws -> Run {
    try Command.run([binary.path] + arguments, in: directory)
  }

  func scratch(_ files: [String: String]) throws -> URL { try Self.scratch(files) }

  /// A fresh folder holding `files` (name to text), for the CLI tests of every suite.
  static func scratch(_ files: [String: String]) throws -> URL {
    let directory = Scratch.root.appendingPathComponent("fg-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, text) in files {
      let url = directory.appendingPathComponent(name)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try text.write(to: url, atomically: true, encoding: .utf8)
    }
    return directory
  }

  static let unsafeChild = """
    #include <stdio.h>
    #include <unistd.h>
    void spawn(void) {
      if (fork() == 0) {
    #ifdef CHILD_LOGS
        puts("child");
    #endif
        _exit(0);
      }
    }
    """

  func testDemoShowsEveryRuleAndExitsOne() throws {
    let run = try forkguard(["check", "examples/demo"])
    XCTAssertEqual(run.status, 1)
    let rules = try forkguard(["rules"]).stdout.split(separator: "\n")
      .filter { !$0.contains("(forkguard run)") && !$0.contains("suppression") }
      .map { String($0.split(separator: " ")[0]) }
    XCTAssert(rules.count >= 7)
    for rule in rules {
      XCTAssert(run.stdout.contains("[\(rule)]"), "demo lacks \(rule)")
    }
    XCTAssert(run.stdout.hasPrefix("examples/demo/demo.c:"))
  }

  func testCleanInputExitsZero() throws {
    let directory = try scratch(["ok.c": "int main(void) { return 0; }\n"])
    let run = try forkguard(["check", "."], in: directory)
    XCTAssertEqual(run.status, 0)
    XCTAssert(run.stdout.isEmpty)
  }

  func testCleanRunAddsNothingToTheProgramsOutput() throws {
    let run = try forkguard(["run", "--", "/bin/echo", "hello"])
    XCTAssertEqual(run.status, 0)
    XCTAssertEqual(run.stdout, "hello\n")
    XCTAssertEqual(run.stderr, "")
  }

  /// An installed forkguard is found through PATH: argv[0] is then only "forkguard", and the
  /// preload library must still be found next to the real binary (the package test found this).
  func testRunFindsItsLibraryWhenFoundThroughPATH() throws {
    var environment = ProcessInfo.processInfo.environment
    environment["PATH"] = Self.binary.deletingLastPathComponent().path + ":/usr/bin:/bin"
    environment["FORKGUARD_PRELOAD_LIBRARY"] = nil
    let run = try Command.run(
      ["forkguard", "run", "--", "/bin/echo", "found"], in: FileManager.default.temporaryDirectory,
      environment: environment)
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertEqual(run.stdout, "found\n")
  }

  /// A scratch folder with fixtures/runtime-child-deadlock/worker-holds-mutex.c built as
  /// `./deadlock` from `deadlock.c`.
  func compiledDeadlock() throws -> URL {
    let directory = try scratch([:])
    let source = try String(
      contentsOf: Self.root.appendingPathComponent("fixtures/runtime-child-deadlock/worker-holds-mutex.c"),
      encoding: .utf8)
    try source.write(to: directory.appendingPathComponent("deadlock.c"), atomically: true, encoding: .utf8)
    let compile = try Command.run(["cc", "-g", "-pthread", "-o", "deadlock", "deadlock.c"], in: directory)
    XCTAssertEqual(compile.status, 0, compile.stderr)
    return directory
  }

  /// run's --output replaces stderr, as its help says; check's keeps text on the terminal.
  func testRunOutputReplacesStderr() throws {
    let directory = try compiledDeadlock()
    let run = try forkguard(["run", "--output", "report.json", "--format", "json", "./deadlock"], in: directory)
    XCTAssertFalse(run.stderr.contains("runtime-child-deadlock"), run.stderr)
    let report = try String(contentsOf: directory.appendingPathComponent("report.json"), encoding: .utf8)
    XCTAssert(report.contains("runtime-child-deadlock"), report)
  }

  /// The text format goes to --output as it comes, and the terminal stays clean.
  func testRunTextOutputGoesOnlyToTheFile() throws {
    let directory = try compiledDeadlock()
    let run = try forkguard(["run", "--output", "report.txt", "./deadlock"], in: directory)
    XCTAssertEqual(run.stderr, "")
    let report = try String(contentsOf: directory.appendingPathComponent("report.txt"), encoding: .utf8)
    XCTAssert(report.hasPrefix("deadlock.c:"), report)
    XCTAssert(report.contains("[runtime-child-deadlock]"), report)
  }

  /// SIGTERM sent to forkguard reaches the program, and forkguard ends with its status
  /// (before, forkguard died and left the program running, orphaned, and its report folder).
  func testRunPassesTermToTheProgramAndExitsWithItsStatus() throws {
    let directory = try scratch([
      "term.c": """
      #include <signal.h>
      #include <stdio.h>
      #include <unistd.h>
      static volatile sig_atomic_t got;
      static void on_term(int signal) { got = signal; }
      int main(int argc, char **argv) {
        signal(SIGTERM, on_term);
        fclose(fopen(argv[1], "w"));
        while (!got) usleep(10000);
        return 7;
      }
      """
    ])
    for (output, source) in [
      ("term", "term.c"), ("clean-signals", Self.root.path + "/fixtures/stress/clean-signals.c"),
    ] {
      let compile = try Command.run(["cc", "-o", output, source], in: directory)
      XCTAssertEqual(compile.status, 0, compile.stderr)
    }
    // The Swift tool's own run, and the launcher that is the installed `forkguard`.
    for (entry, ready) in [(Self.binary.path, "ready"), (Self.launcher.path, "ready-launched")] {
      let process = Process()
      // clean-signals: the test runner blocks signals, and its children inherit that.
      process.executableURL = directory.appendingPathComponent("clean-signals")
      process.arguments = [entry, "run", "./term", ready]
      process.currentDirectoryURL = directory
      try process.run()
      let readyPath = directory.appendingPathComponent(ready).path
      let deadline = Date().addingTimeInterval(60)
      while !FileManager.default.fileExists(atPath: readyPath) && Date() < deadline { usleep(20000) }
      XCTAssert(FileManager.default.fileExists(atPath: readyPath), "\(entry): the program did not start")
      kill(process.processIdentifier, SIGTERM)
      process.waitUntilExit()
      XCTAssertEqual(process.terminationReason, .exit, entry)
      XCTAssertEqual(process.terminationStatus, 7, entry)
    }
  }

  /// forkguard-launcher (Sources/ForkGuardLauncher), which scripts/build-preload.sh puts beside
  /// the preload library and the package installs as `forkguard`.
  static let launcher: URL = {
    // .build/debug is a link to .build/<triple>/debug: the test binary may be in either.
    let builds = binary.deletingLastPathComponent().deletingLastPathComponent()
    return [builds, builds.deletingLastPathComponent()].map { $0.appendingPathComponent("preload/forkguard-launcher") }
      .first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? builds
  }()

  /// The launcher, told where this build's Swift tool is (`nil`: a tool that does not exist).
  func launcher(_ arguments: [String], in directory: URL = CLITests.root, tool: String? = CLITests.binary.path)
    throws -> Run
  {
    var environment = ProcessInfo.processInfo.environment
    environment["FORKGUARD_TOOL"] = tool ?? "/nonexistent/forkguard"
    return try Command.run([Self.launcher.path] + arguments, in: directory, environment: environment)
  }

  /// A run with nothing to report never starts the Swift tool: that is what keeps
  /// `forkguard run` from adding tens of milliseconds and of MiB to every program's start.
  func testTheLauncherRunsACleanProgramWithoutTheTool() throws {
    let run = try launcher(["run", "--", "/bin/sh", "-c", "echo hello; exit 7"], tool: nil)
    XCTAssertEqual(run.status, 7, run.stderr)
    XCTAssertEqual(run.stdout, "hello\n")
    XCTAssertEqual(run.stderr, "")
    let found = try launcher(["run", "sh", "-c", "echo found"], tool: nil)
    XCTAssertEqual(found.stdout, "found\n", found.stderr)
  }

  /// The first report starts the tool, which prints it as `forkguard run` does.
  func testTheLauncherStartsTheToolToPrintAReport() throws {
    let directory = try compiledDeadlock()
    let run = try launcher(["run", "./deadlock"], in: directory)
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssert(run.stderr.hasPrefix("deadlock.c:"), run.stderr)
    XCTAssert(run.stderr.contains("[runtime-child-deadlock]"), run.stderr)
    // The same text as the Swift tool's own run, but for the thread's number.
    let tool = try forkguard(["run", "./deadlock"], in: directory)
    XCTAssertEqual(
      run.stderr.replacing(/thread [0-9]+/, with: "thread N"), tool.stderr.replacing(/thread [0-9]+/, with: "thread N"))

    let toFile = try launcher(["run", "--output", "report.txt", "--color=never", "./deadlock"], in: directory)
    XCTAssertEqual(toFile.stderr, "")
    let report = try String(contentsOf: directory.appendingPathComponent("report.txt"), encoding: .utf8)
    XCTAssert(report.hasPrefix("deadlock.c:"), report)
    XCTAssert(report.contains("[runtime-child-deadlock]"), report)

    // A clean run still leaves the --output file, empty.
    let clean = try launcher(["run", "--output", "clean.txt", "/bin/true"], in: directory, tool: nil)
    XCTAssertEqual(clean.status, 0, clean.stderr)
    XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("clean.txt"), encoding: .utf8), "")
  }

  /// Every other command, and every run the launcher does not take on itself (a whole-document
  /// format, --help, a usage error, a program that is not there), is the tool's, unchanged.
  func testTheLauncherLeavesEverythingElseToTheTool() throws {
    XCTAssertEqual(try launcher(["--version"]).stdout, try forkguard(["--version"]).stdout)
    let directory = try compiledDeadlock()
    let json = try launcher(["run", "--format", "json", "./deadlock"], in: directory)
    XCTAssertEqual(json.status, 0, json.stderr)
    let object = try JSONSerialization.jsonObject(with: Data(json.stderr.utf8)) as? [String: Any]
    let diagnostics = object?["diagnostics"] as? [[String: Any]]
    XCTAssertEqual(diagnostics?.first?["rule"] as? String, "runtime-child-deadlock")
    for (arguments, says) in [
      (["run"], "give the program to run"), (["run", "--no-such-option", "/bin/true"], "--no-such-option"),
      (["run", "./no-such-program"], "no such file"), (["run", "--on-deadlock", "sometimes", "/bin/true"], "abort"),
    ] {
      let run = try launcher(arguments, in: directory)
      XCTAssertEqual(run.status, 2, "\(arguments): \(run.stderr)")
      XCTAssert(run.stderr.contains(says), "\(arguments): \(run.stderr)")
    }
    XCTAssert(try launcher(["run", "--help"]).stdout.contains("forkguard run [<options>]"))
  }

  func testOutputIsTheSameWhateverTheJobs() throws {
    let one = try forkguard(["check", "fixtures", "--jobs", "1"])
    let two = try forkguard(["check", "fixtures", "--jobs", "2"])
    XCTAssertEqual(one.status, 1)
    XCTAssertEqual(one.stdout, two.stdout)
  }

  /// Every fixture, and the demo, judged from only the files that can matter, and from
  /// all of them: the same findings (only parse problems of unparsed files may go).
  func testParsingOnlyWhatCanMatterFindsWhatParsingEverythingFinds() throws {
    for path in ["fixtures", "examples"] {
      let needed = try forkguard(["check", path, "--no-cache", "--threads", "auto"])
      let all = try forkguard(["check", path, "--no-cache", "--threads", "auto", "--parse-all-files"])
      let findings = { (run: Run) in run.stdout.split(separator: "\n").filter { !$0.contains("parse incomplete") } }
      XCTAssertEqual(needed.status, all.status)
      XCTAssertGreaterThan(findings(all).count, 10, path)
      XCTAssertEqual(findings(needed), findings(all), path)
    }
  }

  func testFlagsAfterDoubleDashReachTheCompiler() throws {
    let directory = try scratch(["spawn.c": Self.unsafeChild])
    XCTAssertEqual(try forkguard(["check", "spawn.c"], in: directory).status, 0)
    let run = try forkguard(["check", "spawn.c", "--", "-DCHILD_LOGS"], in: directory)
    XCTAssertEqual(run.status, 1)
    XCTAssert(run.stdout.contains("spawn.c:6:5: warning: 'puts'"))
  }

  func testCompilationDatabaseIsFoundInBuildAndGivenWithP() throws {
    let directory = try scratch(["src/spawn.c": Self.unsafeChild])
    let database = """
      [{"directory": "\(directory.path)/src", "file": "spawn.c", "command": "cc -DCHILD_LOGS -c spawn.c -o spawn.o"}]
      """
    try FileManager.default.createDirectory(
      at: directory.appendingPathComponent("build"), withIntermediateDirectories: true)
    try database.write(
      to: directory.appendingPathComponent("build/compile_commands.json"), atomically: true, encoding: .utf8)
    let found = try forkguard(["check"], in: directory)
    XCTAssertEqual(found.status, 1)
    XCTAssert(found.stdout.contains("src/spawn.c:6:5: warning: 'puts'"))
    let given = try forkguard(["check", "-p", "build", "src"], in: directory)
    XCTAssertEqual(given.stdout, found.stdout)
  }

  func testMissingFileIsNamedAndOtherResultsStillPrinted() throws {
    let directory = try scratch(["spawn.c": Self.unsafeChild])
    let run = try forkguard(["check", "spawn.c", "nowhere.c", "--", "-DCHILD_LOGS"], in: directory)
    XCTAssertEqual(run.status, 2)
    XCTAssert(run.stderr.contains("nowhere.c: no such file or directory"))
    XCTAssert(run.stdout.contains("'puts'"))
  }

  func testUsageErrorsExitTwo() throws {
    XCTAssertEqual(try forkguard(["check", "--profile", "posix-1990"]).status, 2)
    XCTAssertEqual(try forkguard(["check", "--format", "xml"]).status, 2)
    XCTAssertEqual(try forkguard(["check", "--no-such-flag"]).status, 2)
  }

  func testBadConfigurationNamesFileLineAndKey() throws {
    let directory = try scratch([
      "spawn.c": Self.unsafeChild,
      ".forkguard.yml": "profile: glibc\nsafe-function:\n  x: y\n",
    ])
    let run = try forkguard(["check", "spawn.c"], in: directory)
    XCTAssertEqual(run.status, 2)
    XCTAssert(run.stderr.contains(".forkguard.yml:2: unknown key 'safe-function'"))
  }

  func testHeadersAreFoundWhicheverPathIsGiven() throws {
    // A project's include/ and its root's config.h are found from the file, not from the
    // path on the command line: `check src` sees what `check .` sees.
    let directory = try scratch([
      "configure.ac": "AC_INIT([demo], [1])\n",
      "config.h": "#define CHILD_MESSAGE \"child\"\n",
      "include/spawn.h": "#include <stdio.h>\n#include <unistd.h>\nvoid spawn(void);\n",
      "src/spawn.c": """
      #include "config.h"
      #include "spawn.h"
      void spawn(void) { if (fork() == 0) { puts(CHILD_MESSAGE); _exit(0); } }
      """,
    ])
    let whole = try forkguard(["check", "--no-cache", "."], in: directory)
    let part = try forkguard(["check", "--no-cache", "src"], in: directory)
    XCTAssertEqual(whole.stdout, part.stdout)
    XCTAssert(part.stdout.contains("src/spawn.c:3:39: warning: 'puts' is not async-signal-safe"), part.stdout)
    XCTAssertFalse(part.stdout.contains("parse incomplete"), part.stdout)
  }

  func testARunWithoutTheBuildsFlagsSaysWhatItMissed() throws {
    let directory = try scratch([
      "a.c": "#include \"config.h\"\n#include <unistd.h>\nvoid a(void) { if (fork() == 0) _exit(0); }\n",
      "b.c":
        "#include \"config.h\"\n#include \"gen/version.h\"\n#include <unistd.h>\nvoid b(void) { if (fork() == 0) _exit(0); }\n",
      "c.c": "#include <unistd.h>\nvoid c(void) { if (fork() == 0) _exit(0); }\n",
    ])
    let run = try forkguard(["check", "--no-cache", "."], in: directory)
    XCTAssert(
      run.stderr.contains(
        "forkguard: 2 of 3 parsed files were incomplete; most often for a missing 'config.h' (2 files); for full results give the build's flags with -p DIR and a compile_commands.json"
      ), run.stderr)
    let clean = try forkguard(["check", "--no-cache", "c.c"], in: directory)
    XCTAssertFalse(clean.stderr.contains("incomplete"), clean.stderr)
  }

  static let twoProgramsInOneFolder = [
    "client.c": """
    #include <signal.h>
    void cleanup(void);
    static void on_int(int sig) { (void)sig; cleanup(); }
    int main(void) { signal(SIGINT, on_int); return 0; }
    """,
    "client-cleanup.c": "#include <unistd.h>\nvoid cleanup(void) { _exit(1); }\n",
    "server.c": """
    #include <signal.h>
    void cleanup(void);
    static void on_term(int sig) { (void)sig; cleanup(); }
    int main(void) { signal(SIGTERM, on_term); return 0; }
    """,
    "server-cleanup.c": "#include <stdio.h>\n#include <unistd.h>\nvoid cleanup(void) { puts(\"bye\"); _exit(1); }\n",
  ]

  func testTheBuildsLinkInformationSaysWhichDefinitionACallMeans() throws {
    // Two programs in one folder, each with its own cleanup(): without link information
    // the server's handler links to the first one (the client's, which is safe).
    let guessed = try scratch(Self.twoProgramsInOneFolder)
    XCTAssertFalse(try forkguard(["check", "--no-cache", "."], in: guessed).stdout.contains("puts"))

    // meson's introspection: each executable's sources.
    let meson = try scratch(Self.twoProgramsInOneFolder)
    func path(_ name: String, _ root: URL) -> String { root.appendingPathComponent(name).standardizedFileURL.path }
    let targets: [[String: Any]] = [
      [
        "name": "client", "type": "executable",
        "target_sources": [["sources": [path("client.c", meson), path("client-cleanup.c", meson)]]],
      ],
      [
        "name": "server", "type": "executable",
        "target_sources": [["sources": [path("server.c", meson), path("server-cleanup.c", meson)]]],
      ],
    ]
    let info = meson.appendingPathComponent("build/meson-info")
    try FileManager.default.createDirectory(at: info, withIntermediateDirectories: true)
    try JSONSerialization.data(withJSONObject: targets).write(to: info.appendingPathComponent("intro-targets.json"))
    let fromMeson = try forkguard(["check", "--no-cache", "."], in: meson)
    XCTAssert(
      fromMeson.stdout.contains("server-cleanup.c:3:22: warning: 'puts' is not async-signal-safe"), fromMeson.stdout)

    // CMake's File API reply: index -> codemodel-v2 -> one file per target.
    let cmake = try scratch(Self.twoProgramsInOneFolder)
    let reply = cmake.appendingPathComponent("build/.cmake/api/v1/reply")
    try FileManager.default.createDirectory(at: reply, withIntermediateDirectories: true)
    func write(_ object: Any, _ name: String) throws {
      try JSONSerialization.data(withJSONObject: object).write(to: reply.appendingPathComponent(name))
    }
    try write(["objects": [["kind": "codemodel", "jsonFile": "codemodel-v2-1.json"]]], "index-1.json")
    try write(
      [
        "paths": ["source": cmake.standardizedFileURL.path],
        "configurations": [["targets": [["jsonFile": "target-client.json"], ["jsonFile": "target-server.json"]]]],
      ], "codemodel-v2-1.json")
    try write(
      ["name": "client", "type": "EXECUTABLE", "sources": [["path": "client.c"], ["path": "client-cleanup.c"]]],
      "target-client.json")
    try write(
      ["name": "server", "type": "EXECUTABLE", "sources": [["path": "server.c"], ["path": "server-cleanup.c"]]],
      "target-server.json")
    let fromCMake = try forkguard(["check", "--no-cache", "."], in: cmake)
    XCTAssert(
      fromCMake.stdout.contains("server-cleanup.c:3:22: warning: 'puts' is not async-signal-safe"), fromCMake.stdout)

    // Broken build information is named, with exit 2.
    try "{".write(to: info.appendingPathComponent("intro-targets.json"), atomically: true, encoding: .utf8)
    let broken = try forkguard(["check", "--no-cache", "."], in: meson)
    XCTAssertEqual(broken.status, 2)
    XCTAssert(broken.stderr.contains("intro-targets.json: malformed build information"), broken.stderr)
  }

  func testThePrecisionReportReadsWhatCheckWrites() throws {
    // benchmarks/precision.sh's report, on a results folder laid out as the script lays it
    // out, from a real run over the demo: a smoke test of the whole-tree benchmark.
    let results = Scratch.root.appendingPathComponent("fg-precision-\(UUID().uuidString)")
    let runs = results.appendingPathComponent("forkguard")
    try FileManager.default.createDirectory(at: runs, withIntermediateDirectories: true)
    let demo = Self.root.appendingPathComponent("examples/demo").path
    let check = try forkguard([
      "check", "--no-cache", "--fail-on", "never", "--timings", "--format", "json", "--output",
      runs.appendingPathComponent("demo.json").path, demo,
    ])
    try check.stderr.write(to: runs.appendingPathComponent("demo.stderr"), atomically: true, encoding: .utf8)
    try "0.50 20480\n".write(to: runs.appendingPathComponent("demo.time"), atomically: true, encoding: .utf8)
    let meta =
      #"{"package": "demo", "version": "1", "tree": "\#(demo)", "c_files": 1, "status": 0, "binary": "forkguard"}"#
    try meta.write(to: runs.appendingPathComponent("demo.meta.json"), atomically: true, encoding: .utf8)
    let report = try Command.run(
      [
        "python3", Self.root.appendingPathComponent("benchmarks/precision-report.py").path, "--results", results.path,
        "--sample", "3", "--seed", "12", "demo",
      ], in: Self.root)
    XCTAssertEqual(report.status, 0, report.stderr)
    XCTAssert(report.stdout.contains("| demo | 1 | 1 | 1 | 1 | 0 | 0.5 | 20 |"), report.stdout)
    XCTAssert(report.stdout.contains("## Sample for triage: 3 of 8 warnings, seed 12"), report.stdout)
    XCTAssert(report.stdout.contains("the 4 findings at note severity"), report.stdout)
    let everything = try Command.run(
      [
        "python3", Self.root.appendingPathComponent("benchmarks/precision-report.py").path, "--results", results.path,
        "--sample", "3", "--seed", "12", "--sample-from", "findings", "demo",
      ], in: Self.root)
    XCTAssert(everything.stdout.contains("## Sample for triage: 3 of 12 findings, seed 12"), everything.stdout)
  }

  func testConfigurationProfileApplies() throws {
    let source = """
      #include <stdlib.h>
      #include <unistd.h>
      void spawn(void) { if (fork() == 0) { (void)getenv("X"); _exit(0); } }
      """
    // What glibc alone documents AS-Safe is a note under the POSIX profiles: visible, and
    // not failing the run.
    let finding = "note: 'getenv' is not on the POSIX.1-2024 list"
    let strict = try scratch(["spawn.c": source])
    let strictRun = try forkguard(["check", "spawn.c"], in: strict)
    XCTAssert(strictRun.stdout.contains(finding), strictRun.stdout)
    XCTAssertEqual(strictRun.status, 0)
    XCTAssertEqual(try forkguard(["check", "spawn.c", "--fail-on", "error"], in: strict).status, 0)
    let relaxed = try scratch(["spawn.c": source, ".forkguard.yml": "profile: glibc\n"])
    XCTAssertFalse(try forkguard(["check", "spawn.c"], in: relaxed).stdout.contains("getenv"))
    XCTAssert(try forkguard(["check", "spawn.c", "--profile", "posix-2024"], in: relaxed).stdout.contains(finding))
  }

  func testRulesListsEveryRule() throws {
    let run = try forkguard(["rules"])
    XCTAssertEqual(run.status, 0)
    XCTAssertEqual(run.stdout.split(separator: "\n").count, 13)
    XCTAssert(run.stdout.contains("runtime-child-deadlock"))
    XCTAssert(run.stdout.contains("vfork-child"))
    XCTAssert(run.stdout.contains("runtime-not-instrumented"))
  }

  func testExplainPrintsTheDocsPage() throws {
    let run = try forkguard(["explain", "vfork-child"])
    XCTAssertEqual(run.status, 0)
    XCTAssert(run.stdout.hasPrefix("# vfork-child"))
    XCTAssertEqual(try forkguard(["explain", "no-such-rule"]).status, 2)
  }

  func testAVeryDeepElseIfChainIsAnalysedNotACrash() throws {
    // Generated code nests deeply; libclang's own 8 MiB parse thread overflowed at 20,000
    // `else if`s (signal 11). Parsing runs on forkguard's deep-stacked workers instead.
    let chain = (1..<20_000).map { "  else if (x == \($0)) return \($0);" }.joined(separator: "\n")
    let directory = try scratch([
      "generated.c": """
      #include <stdio.h>
      #include <unistd.h>
      int pick(int x) {
        if (x == 0) return 0;
      \(chain)
        return -1;
      }
      int main(void) { if (fork() == 0) { printf("%d", pick(3)); _exit(0); } return 0; }
      """
    ])
    let run = try forkguard(["check", "--no-cache", "--threads", "always", "generated.c"], in: directory)
    XCTAssertEqual(run.status, 1, run.stderr)
    XCTAssert(run.stdout.hasPrefix("generated.c:20006:37: warning: 'printf' is not async-signal-safe"), run.stdout)
  }

  func testRunKeepsTheProgramsExitStatus() throws {
    let run = try forkguard(["run", "--", "/bin/sh", "-c", "echo hello; exit 7"])
    XCTAssertEqual(run.status, 7)
    XCTAssertEqual(run.stdout, "hello\n")
    XCTAssertEqual(run.stderr, "")
  }

  func testRunWithoutAProgramIsAUsageError() throws {
    let run = try forkguard(["run"])
    XCTAssertEqual(run.status, 2)
    XCTAssert(run.stderr.contains("give the program to run"))
  }

  func testRunTakesTheProgramWithoutADashDash() throws {
    // The program's own flags and its own `--` stay the program's.
    let run = try forkguard(["run", "--format", "text", "/bin/sh", "-c", "echo \"$@\"", "sh", "-x", "--", "-y"])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertEqual(run.stdout, "-x -- -y\n")
    let dashed = try forkguard(["run", "--", "/bin/sh", "-c", "echo \"$@\"", "sh", "--", "--format"])
    XCTAssertEqual(dashed.stdout, "-- --format\n")
  }

  func testEveryRunOptionWithAValueKeepsItsValueFromTheProgram() throws {
    // The split before parsing lists run's options that take a value; one it does not know
    // would hand its value to the program. A value for each option `run --help` shows:
    let values = [
      "--on-deadlock": "continue", "--format": "json", "--output": "report.json", "--color": "never",
    ]
    let help = try forkguard(["run", "--help"]).stdout
    let shown = try Regex(#"(?m)^  (--[a-z-]+) <"#)
    let options = help.matches(of: shown).map { String($0.output[1].substring ?? "") }
    XCTAssertEqual(Set(options), Set(values.keys), help)
    let directory = try scratch([:])
    for option in options {
      let run = try forkguard(["run", option, values[option] ?? "", "/bin/echo", "ran"], in: directory)
      XCTAssertEqual(run.stdout, "ran\n", "\(option): \(run.stderr)")
    }
  }

  func testRunRejectsAnUnknownOptionBeforeTheProgram() throws {
    let run = try forkguard(["run", "--no-such-option", "/bin/true"])
    XCTAssertEqual(run.status, 2)
    XCTAssert(run.stderr.contains("--no-such-option"), run.stderr)
  }

  func testRunReportsADeadlockedChild() throws {
    let directory = try scratch([
      "deadlock.c": """
      #include <pthread.h>
      #include <semaphore.h>
      #include <unistd.h>
      #include <sys/wait.h>
      static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
      static sem_t held, done;
      static void *worker(void *a) { pthread_mutex_lock(&m); sem_post(&held); sem_wait(&done); pthread_mutex_unlock(&m); return a; }
      int main(void) {
        sem_init(&held, 0, 0); sem_init(&done, 0, 0);
        pthread_t t; pthread_create(&t, 0, worker, 0); sem_wait(&held);
        pid_t pid = fork();
        if (pid == 0) { pthread_mutex_lock(&m); _exit(0); }
        waitpid(pid, 0, 0); sem_post(&done); pthread_join(t, 0); return 0;
      }
      """
    ])
    let compile = try Command.run([
      "cc", "-g", "-pthread", "-o", directory.appendingPathComponent("deadlock").path,
      directory.appendingPathComponent("deadlock.c").path,
    ])
    XCTAssertEqual(compile.status, 0, compile.stderr)
    let run = try forkguard(["run", "--format", "json", "--", "./deadlock"], in: directory)
    XCTAssertEqual(run.status, 0)
    let object = try JSONSerialization.jsonObject(with: Data(run.stderr.utf8)) as? [String: Any]
    let diagnostics = object?["diagnostics"] as? [[String: Any]]
    XCTAssertEqual(diagnostics?.first?["rule"] as? String, "runtime-child-deadlock")
    XCTAssertEqual((diagnostics?.first?["location"] as? [String: Any])?["line"] as? Int, 12)

    // Without -g there is no line: the binary is the place, and the function and offset
    // say where in it.
    let plain = try Command.run([
      "cc", "-pthread", "-o", directory.appendingPathComponent("plain").path,
      directory.appendingPathComponent("deadlock.c").path,
    ])
    XCTAssertEqual(plain.status, 0, plain.stderr)
    let text = try forkguard(["run", "./plain"], in: directory)
    let lines = text.stderr.split(separator: "\n").map(String.init)
    XCTAssert(
      lines.first?.hasPrefix("plain: error: 'pthread_mutex_lock' of 'm' in the fork child") ?? false, text.stderr)
    XCTAssert(lines.first?.contains("'worker' held it") ?? false, text.stderr)
    XCTAssert(
      lines.contains {
        $0.hasPrefix("plain: note: in 'main' at offset 0x") && $0.hasSuffix("build it with -g for file and line")
      },
      text.stderr)
    XCTAssert(lines.contains { $0.hasPrefix("plain: note: fork() called here (in 'main' at offset 0x") }, text.stderr)
  }

  func testOutputWritesTheMachineFormatAndTextStillGoesToTheTerminal() throws {
    let directory = try scratch(["spawn.c": Self.unsafeChild])
    let run = try forkguard(
      ["check", "spawn.c", "--format", "sarif", "--output", "out.sarif", "--", "-DCHILD_LOGS"], in: directory)
    XCTAssertEqual(run.status, 1)
    XCTAssert(run.stdout.hasPrefix("spawn.c:6:5: warning: 'puts'"))
    let sarif = try String(contentsOf: directory.appendingPathComponent("out.sarif"), encoding: .utf8)
    XCTAssert(sarif.contains("\"version\" : \"2.1.0\""))
  }

  func testEverySarifWeWriteIsValid() throws {
    let directory = try scratch([:])
    let check = directory.appendingPathComponent("fixtures.sarif").path
    _ = try forkguard(["check", "fixtures", "--format", "sarif", "--output", check])
    let run = directory.appendingPathComponent("run.sarif").path
    _ = try forkguard(["run", "--format", "sarif", "--output", run, "--", "/bin/true"])
    let validation = try Command.run([
      "python3", Self.root.appendingPathComponent("scripts/validate-sarif.py").path, check, run,
    ])
    XCTAssertEqual(validation.status, 0, validation.stdout + validation.stderr)
    XCTAssert(validation.stdout.contains("fixtures.sarif: valid SARIF 2.1.0"), validation.stdout)
  }

  func testFailOnChoosesWhatFails() throws {
    let directory = try scratch(["spawn.c": Self.unsafeChild])
    let flags = ["--", "-DCHILD_LOGS"]
    XCTAssertEqual(try forkguard(["check", "spawn.c", "--fail-on", "warning"] + flags, in: directory).status, 1)
    XCTAssertEqual(try forkguard(["check", "spawn.c", "--fail-on", "error"] + flags, in: directory).status, 0)
    XCTAssertEqual(try forkguard(["check", "spawn.c", "--fail-on", "never"] + flags, in: directory).status, 0)
    XCTAssertEqual(try forkguard(["check", "spawn.c", "--fail-on", "sometimes"], in: directory).status, 2)
    try "rules:\n  fork-child-unsafe-call: error\n".write(
      to: directory.appendingPathComponent(".forkguard.yml"), atomically: true, encoding: .utf8)
    let raised = try forkguard(["check", "spawn.c", "--fail-on", "error"] + flags, in: directory)
    XCTAssertEqual(raised.status, 1)
    XCTAssert(raised.stdout.contains(": error: 'puts'"))
  }

  func testNearestConfigurationGovernsEachFile() throws {
    let directory = try scratch([
      "a/spawn.c": Self.unsafeChild,
      "b/spawn.c": Self.unsafeChild,
      "vendor/spawn.c": Self.unsafeChild,
      ".forkguard.yml": "exclude:\n  - vendor/\n",
      "b/.forkguard.yml": "rules:\n  fork-child-unsafe-call: off\n",
    ])
    let run = try forkguard(["check", ".", "--", "-DCHILD_LOGS"], in: directory)
    XCTAssertEqual(run.status, 1)
    XCTAssert(run.stdout.contains("a/spawn.c:6:5"))
    XCTAssertFalse(run.stdout.contains("b/spawn.c"))
    XCTAssertFalse(run.stdout.contains("vendor/spawn.c"))
  }

  func testConfiguredLockFunctionsAndHandlerRegistrations() throws {
    let directory = try scratch([
      ".forkguard.yml": """
      signal-registrations:
        install_handler: 1
      lock-functions:
        big_lock: { role: acquire, lock-argument: 0 }
        big_unlock: { role: release, lock-argument: 0 }
      """,
      "app.c": """
      #include <stdio.h>
      #include <unistd.h>
      struct lock { int word; };
      static struct lock table;
      void install_handler(int signal_number, void (*handler)(int));
      void big_lock(struct lock *l);
      void big_unlock(struct lock *l);
      static void on_hup(int s) { (void)s; puts("hup"); }
      void setup(void) { install_handler(1, on_hup); }
      void spawn(void) {
        big_lock(&table);
        if (fork() == 0) { big_lock(&table); _exit(0); }
        big_unlock(&table);
      }
      """,
    ])
    let run = try forkguard(["check", "app.c"], in: directory)
    XCTAssert(run.stdout.contains("app.c:8:38: warning: 'puts' is not async-signal-safe"), run.stdout)
    XCTAssert(run.stdout.contains("[signal-handler-unsafe-call]"))
    XCTAssert(run.stdout.contains("app.c:12:7: warning: 'fork' called while 'table' is locked"), run.stdout)
  }

  func testBaselineSurvivesUnrelatedLineShifts() throws {
    let directory = try scratch(["spawn.c": Self.unsafeChild])
    let flags = ["--", "-DCHILD_LOGS"]
    XCTAssertEqual(
      try forkguard(["check", "spawn.c", "--write-baseline", "baseline.json"] + flags, in: directory).status, 1)
    XCTAssertEqual(try forkguard(["check", "spawn.c", "--baseline", "baseline.json"] + flags, in: directory).status, 0)
    // Lines added above move the finding; the baseline still matches it.
    let shifted = "// a comment\n// another\n" + Self.unsafeChild
    try shifted.write(to: directory.appendingPathComponent("spawn.c"), atomically: true, encoding: .utf8)
    let accepted = try forkguard(["check", "spawn.c", "--baseline", "baseline.json"] + flags, in: directory)
    XCTAssertEqual(accepted.status, 0)
    XCTAssert(accepted.stderr.contains("1 more accepted by the baseline"))
    // A second identical call is one more than the baseline counted.
    let doubled = shifted.replacingOccurrences(
      of: "    puts(\"child\");", with: "    puts(\"child\");\n    puts(\"child\");")
    try doubled.write(to: directory.appendingPathComponent("spawn.c"), atomically: true, encoding: .utf8)
    let grown = try forkguard(["check", "spawn.c", "--baseline", "baseline.json"] + flags, in: directory)
    XCTAssertEqual(grown.status, 1)
    XCTAssertEqual(grown.stdout.components(separatedBy: "warning:").count - 1, 1)
    XCTAssertEqual(try forkguard(["check", "spawn.c", "--baseline", "missing.json"], in: directory).status, 2)
  }

  func testProgressOnATerminalErasesItself() throws {
    // `script` gives the run a pseudo-terminal; a single job over every fixture takes longer
    // than the half second before the bar appears.
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("no script(1)") }
    let text = try Command.run(
      ["/usr/bin/script", "-qc", "\(Self.binary.path) check fixtures --jobs 1 --no-cache >/dev/null", "/dev/null"],
      in: Self.root
    ).stdout
    XCTAssert(text.contains(" files"), text)
    XCTAssert(text.hasSuffix("\r\u{1b}[K") || text.contains("\r\u{1b}[Kforkguard:"), text.debugDescription)
  }

  func testNoProgressOutputWhenNotATerminal() throws {
    let run = try forkguard(["check", "fixtures/fork-child-unsafe-call"])
    XCTAssertFalse(run.stderr.contains("\r"))
    XCTAssertFalse(run.stderr.contains("files\u{1b}"))
  }

  func testJsonFormat() throws {
    let run = try forkguard(["check", "examples/demo", "--format", "json"])
    XCTAssertEqual(run.status, 1)
    let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
    XCTAssertEqual(object?["version"] as? Int, 1)
  }
}
