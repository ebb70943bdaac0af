import ForkGuardTestSupport
import Foundation
import XCTest

/// The inputs a new user gets wrong, one test each: nothing hangs, every refusal names its
/// file and exits 2, and the other files are still analysed and reported.
final class BadInputTests: XCTestCase {
  typealias Run = Command.Output

  /// Under `timeout`: a regression to "hangs on a FIFO" fails the test instead of CI.
  func forkguard(_ arguments: [String], in directory: URL) throws -> Run {
    try Command.run(["timeout", "120", CLITests.binary.path] + arguments, in: directory)
  }

  func scratch(_ files: [String: String]) throws -> URL { try CLITests.scratch(files) }

  func makeFIFO(_ url: URL) throws {
    XCTAssertEqual(mkfifo(url.path, 0o644), 0, "mkfifo \(url.path)")
  }

  static let child = CLITests.unsafeChild

  func testFIFONamedDirectlyIsRefusedAndTheOtherFilesAreStillReported() throws {
    let directory = try scratch(["spawn.c": Self.child])
    try makeFIFO(directory.appendingPathComponent("a.c"))
    let run = try forkguard(["check", "a.c", "spawn.c", "--", "-DCHILD_LOGS"], in: directory)
    XCTAssertEqual(run.status, 2, run.stderr)
    XCTAssert(run.stderr.contains("a.c: not a regular file (a FIFO)"), run.stderr)
    XCTAssert(run.stdout.contains("spawn.c:6:5: warning: 'puts'"), run.stdout)
  }

  func testFIFOMetInAWalkIsSkipped() throws {
    let directory = try scratch(["src/spawn.c": Self.child])
    try makeFIFO(directory.appendingPathComponent("src/a.c"))
    let run = try forkguard(["check", "src", "--", "-DCHILD_LOGS"], in: directory)
    XCTAssertEqual(run.status, 1, run.stderr)
    XCTAssertFalse(run.stderr.contains("a.c"), run.stderr)
    XCTAssert(run.stdout.contains("src/spawn.c:6:5: warning: 'puts'"), run.stdout)
  }

  func testBinaryFilesAreRefusedByName() throws {
    let directory = try scratch(["spawn.c": Self.child])
    try FileManager.default.copyItem(atPath: "/bin/true", toPath: directory.appendingPathComponent("ls.c").path)
    var noise = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ $0 / 3) })
    noise[100] = 0
    try noise.write(to: directory.appendingPathComponent("x.c"))
    for paths in [["ls.c", "x.c", "spawn.c"], ["."]] {
      let run = try forkguard(["check"] + paths + ["--", "-DCHILD_LOGS"], in: directory)
      XCTAssertEqual(run.status, 2, run.stderr)
      XCTAssert(run.stderr.contains("ls.c: not a text file (an ELF binary)"), run.stderr)
      XCTAssert(run.stderr.contains("x.c: not a text file (it holds NUL bytes)"), run.stderr)
      XCTAssert(run.stdout.contains("spawn.c:6:5: warning: 'puts'"), run.stdout)
      XCTAssertFalse(run.stdout.contains("parse incomplete"), run.stdout)
    }
  }

  func testADirectoryWithoutSourcesIsAnError() throws {
    let directory = try scratch(["docs/readme.txt": "nothing here\n"])
    try FileManager.default.createDirectory(
      at: directory.appendingPathComponent("empty"), withIntermediateDirectories: true)
    for path in ["empty", "docs"] {
      let run = try forkguard(["check", path], in: directory)
      XCTAssertEqual(run.status, 2, run.stderr)
      XCTAssert(run.stderr.contains("forkguard: error: no C or Swift files found in \(path)"), run.stderr)
    }
  }

  func testFilesAllExcludedByTheConfigurationAreAnError() throws {
    let directory = try scratch(["spawn.c": Self.child, ".forkguard.yml": "exclude: ['*.c']\n"])
    let run = try forkguard(["check", "."], in: directory)
    XCTAssertEqual(run.status, 2, run.stderr)
    XCTAssert(run.stderr.contains("no C or Swift files found in . (1 excluded by the configuration)"), run.stderr)
  }

  func testDevicesAreRefused() throws {
    let directory = try scratch([:])
    let run = try forkguard(["check", "/dev/null"], in: directory)
    XCTAssertEqual(run.status, 2, run.stderr)
    XCTAssert(run.stderr.contains("/dev/null: not a regular file (a character device)"), run.stderr)
  }

  func testAnEmptyCompilationDatabaseIsAnError() throws {
    for (text, words) in [("", "the compilation database is empty"), ("[]\n", "lists no compile commands")] {
      let directory = try scratch(["build/compile_commands.json": text, "spawn.c": Self.child])
      let run = try forkguard(["check", "-p", "build"], in: directory)
      XCTAssertEqual(run.status, 2, run.stderr)
      XCTAssert(run.stderr.contains("compile_commands.json: \(words)"), run.stderr)
    }
  }

  func testACleanRunEndsWithTheSummaryLine() throws {
    let directory = try scratch(["ok.c": "int main(void) { return 0; }\n", "spawn.c": Self.child])
    let run = try forkguard(["check", "."], in: directory)
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertEqual(run.stdout, "")
    XCTAssert(run.stderr.hasPrefix("forkguard: no findings in 2 files analysed"), run.stderr)
  }

  func testAnUnknownRuleInTheConfigurationIsAnErrorWithTheLikelyId() throws {
    let directory = try scratch([
      "spawn.c": Self.child, ".forkguard.yml": "profile: glibc\nrules:\n  vfork-chld: off\n",
    ])
    let run = try forkguard(["check", "spawn.c"], in: directory)
    XCTAssertEqual(run.status, 2, run.stderr)
    XCTAssert(
      run.stderr.contains(".forkguard.yml:3: unknown rule 'vfork-chld'; did you mean 'vfork-child'?"), run.stderr)
    let key = try scratch(["spawn.c": Self.child, ".forkguard.yml": "profle: glibc\n"])
    let misspeltKey = try forkguard(["check", "spawn.c"], in: key)
    XCTAssertEqual(misspeltKey.status, 2, misspeltKey.stderr)
    XCTAssert(misspeltKey.stderr.contains("unknown key 'profle' (did you mean 'profile'?"), misspeltKey.stderr)
  }

  func testAnUnknownRuleInASuppressionCommentIsReported() throws {
    let source = Self.child.replacingOccurrences(
      of: "puts(\"child\");", with: "puts(\"child\"); // forkguard:ignore fork-child-unsafe-cal -- audited")
    let directory = try scratch(["spawn.c": source])
    let run = try forkguard(["check", "spawn.c", "--", "-DCHILD_LOGS"], in: directory)
    XCTAssertEqual(run.status, 1, run.stderr)
    XCTAssert(run.stdout.contains("spawn.c:6:5: warning: 'puts'"), run.stdout)
    XCTAssert(
      run.stdout.contains(
        "suppression names unknown rule 'fork-child-unsafe-cal'; did you mean 'fork-child-unsafe-call'? [invalid-suppression]"
      ), run.stdout)
  }

  func testABaselineWrittenAtTheRootWorksFromASubfolderAndElsewhere() throws {
    let directory = try scratch(["src/spawn.c": Self.child])
    try FileManager.default.createDirectory(
      at: directory.appendingPathComponent(".git"), withIntermediateDirectories: true)
    let write = try forkguard(
      ["check", "src", "--write-baseline", "forkguard-baseline.json", "--", "-DCHILD_LOGS"], in: directory)
    XCTAssertEqual(write.status, 1, write.stderr)
    let text = try String(contentsOf: directory.appendingPathComponent("forkguard-baseline.json"), encoding: .utf8)
    XCTAssert(text.contains("\"file\" : \"src/spawn.c\""), text)
    let fromSubfolder = try forkguard(
      ["check", ".", "--baseline", "../forkguard-baseline.json", "--", "-DCHILD_LOGS"],
      in: directory.appendingPathComponent("src"))
    XCTAssertEqual(fromSubfolder.status, 0, fromSubfolder.stdout + fromSubfolder.stderr)
    XCTAssert(fromSubfolder.stderr.contains("1 more accepted by the baseline"), fromSubfolder.stderr)
    // Another machine: the same tree somewhere else.
    let moved = Scratch.root.appendingPathComponent("fg-moved-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: directory, to: moved)
    let elsewhere = try forkguard(
      ["check", "\(moved.path)/src", "--baseline", "\(moved.path)/forkguard-baseline.json", "--", "-DCHILD_LOGS"],
      in: FileManager.default.temporaryDirectory)
    XCTAssertEqual(elsewhere.status, 0, elsewhere.stdout + elsewhere.stderr)
  }

  func testANestedConfigurationRefinesTheOneAbove() throws {
    let directory = try scratch([
      ".forkguard.yml": "rules:\n  fork-child-unsafe-call: error\nexclude: [vendor/]\n",
      "tests/.forkguard.yml": "rules:\n  vfork-child: off\n",
      "tests/spawn.c": Self.child,
      "tests/vendor/spawn.c": Self.child,
      "standalone/.forkguard.yml": "root: true\nrules:\n  vfork-child: off\n",
      "standalone/spawn.c": Self.child,
    ])
    let run = try forkguard(["check", ".", "--", "-DCHILD_LOGS"], in: directory)
    XCTAssertEqual(run.status, 1, run.stderr)
    // Inherited: the parent's severity.
    XCTAssert(run.stdout.contains("tests/spawn.c:6:5: error: 'puts'"), run.stdout)
    // `root: true` inherits nothing: the default severity.
    XCTAssert(run.stdout.contains("standalone/spawn.c:6:5: warning: 'puts'"), run.stdout)
    // The parent's exclude, relative to the parent's folder, does not reach tests/vendor…
    XCTAssert(run.stdout.contains("tests/vendor/spawn.c:6:5: error: 'puts'"), run.stdout)
    // …but a vendor/ beside the parent is excluded.
    try FileManager.default.createDirectory(
      at: directory.appendingPathComponent("vendor"), withIntermediateDirectories: true)
    try Self.child.write(to: directory.appendingPathComponent("vendor/spawn.c"), atomically: true, encoding: .utf8)
    let again = try forkguard(["check", ".", "--", "-DCHILD_LOGS"], in: directory)
    XCTAssertFalse(again.stdout.contains("\nvendor/spawn.c") || again.stdout.hasPrefix("vendor/"), again.stdout)
  }

  func testFlagsLibclangRejectsAreNamedInWords() throws {
    let directory = try scratch(["ok.c": "int main(void) { return 0; }\n"])
    let standard = try forkguard(["check", "ok.c", "--", "-std=c77"], in: directory)
    XCTAssertEqual(standard.status, 2, standard.stderr)
    XCTAssert(
      standard.stderr.contains(
        "forkguard: error: ok.c: libclang rejected the flag '-std=c77': 'c77' is not a language standard clang knows"),
      standard.stderr)
    // The user's -x decides the language, so forkguard's own C standard yields to it.
    let language = try forkguard(["check", "ok.c", "--", "-x", "c++"], in: directory)
    XCTAssertEqual(language.status, 0, language.stderr)
    let clash = try forkguard(["check", "ok.c", "--", "-x", "c++", "-std=gnu17"], in: directory)
    XCTAssertEqual(clash.status, 2, clash.stderr)
    XCTAssert(clash.stderr.contains("libclang rejected '-std=gnu17' with '-x c++'"), clash.stderr)
    let unknown = try forkguard(["check", "ok.c", "--", "-x", "fortran"], in: directory)
    XCTAssert(unknown.stderr.contains("'fortran' is not a language clang can parse"), unknown.stderr)
  }

  func testOutputToAFIFOIsWrittenInPlace() throws {
    let directory = try scratch(["spawn.c": Self.child])
    let fifo = directory.appendingPathComponent("report.fifo")
    try makeFIFO(fifo)
    let reader = Thread {
      _ = FileHandle(forReadingAtPath: fifo.path)?.readDataToEndOfFile()
    }
    reader.start()
    let run = try forkguard(["check", "spawn.c", "--format", "json", "--output", fifo.path], in: directory)
    XCTAssertEqual(run.status, 0, run.stderr)
    var status = stat()
    XCTAssertEqual(stat(fifo.path, &status), 0)
    XCTAssertEqual(status.st_mode & S_IFMT, S_IFIFO, "--output replaced the FIFO")
  }

  /// A broken frame (a negative or absurd Content-Length) is dropped; the session goes on.
  func testTheLanguageServerSurvivesBrokenFrames() throws {
    func frame(_ json: String) -> String { "Content-Length: \(json.utf8.count)\r\n\r\n\(json)" }
    let session =
      "Content-Length: -5\r\n\r\n" + "Content-Length: 99999999999999999999\r\n\r\n"
      + "Content-Length: 9223372036854775807\r\n\r\n"
      + frame(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#)
      + frame(#"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#) + frame(#"{"jsonrpc":"2.0","method":"exit"}"#)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
    process.arguments = ["60", CLITests.binary.path, "lsp"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data(session.utf8))
    try input.fileHandleForWriting.close()
    let replies = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, replies)
    XCTAssert(replies.contains(#""id":1"#) && replies.contains("capabilities"), replies)
    XCTAssert(replies.contains(#""id":2"#), replies)
  }
}
