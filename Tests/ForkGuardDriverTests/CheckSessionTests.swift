import ForkGuardCore
import ForkGuardDriver
import ForkGuardTestSupport
import Foundation
import Testing

/// A session (the language server's) keeps scans, facts and suppression lookups between
/// checks; every check must still find exactly what a fresh one finds.
@Suite("Check sessions")
struct CheckSessionTests {
  static func options(_ project: URL, session: CheckSession?) -> CheckRun.Options {
    var options = CacheAndShardTests.options(project, cache: project.appendingPathComponent("cache"))
    options.session = session
    return options
  }

  static func findings(_ result: CheckRun.Result) -> [Diagnostic] { result.diagnostics.filter { $0.ruleID != nil } }

  @Test func repeatedChecksAgreeWithFreshOnes() throws {
    let project = try CacheAndShardTests.project()
    let session = CheckSession()
    let first = try CheckRun.run(Self.options(project, session: session))
    let second = try CheckRun.run(Self.options(project, session: session))
    #expect(Self.findings(first).count == 2)
    #expect(second.diagnostics == first.diagnostics)
    #expect(second.cacheHits == 3 && second.parsed == 0)
  }

  /// The compilation database is read again when its file changes, and only then; a
  /// check with a changed database finds what a fresh check finds.
  @Test func compilationDatabaseIsKeptUntilItsFileChanges() throws {
    let folder = Scratch.root.appendingPathComponent("fg-db-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("compile_commands.json").path
    func write(_ files: [String]) throws {
      let entries = files.map {
        #"{"directory": "\#(folder.path)", "file": "\#($0)", "arguments": ["cc", "-c", "\#($0)"]}"#
      }
      try ("[" + entries.joined(separator: ",") + "]").write(toFile: path, atomically: false, encoding: .utf8)
      // Old enough that the same clock tick cannot hide a later change.
      try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -10)], ofItemAtPath: path)
    }
    let session = CheckSession()
    try write(["a.c"])
    #expect(try session.compilationDatabase(at: path).files.map { ($0 as NSString).lastPathComponent } == ["a.c"])
    #expect(try session.compilationDatabase(at: path).files.count == 1)
    try write(["a.c", "bb.c"])
    #expect(try session.compilationDatabase(at: path).files.count == 2)
  }

  @Test func filesChangedOnDiskAreReadAgain() throws {
    let project = try CacheAndShardTests.project()
    let session = CheckSession()
    _ = try CheckRun.run(Self.options(project, session: session))
    // format.c no longer allocates: its scan and facts must not be served from the session.
    try "#include <stdlib.h>\n#include \"common.h\"\nvoid format(const char *text) { (void)text; }\n".write(
      to: project.appendingPathComponent("format.c"), atomically: true, encoding: .utf8)
    let edited = try CheckRun.run(Self.options(project, session: session))
    #expect(Self.findings(edited).isEmpty)
    #expect(edited.diagnostics == (try CheckRun.run(Self.options(project, session: nil))).diagnostics)
    // A suppression added to a file the session saw without one is honoured.
    try "#include <stdlib.h>\n#include \"common.h\"\nvoid format(const char *text) { (void)text; free(malloc(8)); }\n"
      .write(to: project.appendingPathComponent("format.c"), atomically: true, encoding: .utf8)
    #expect(Self.findings(try CheckRun.run(Self.options(project, session: session))).count == 2)
    try """
    #include <stdlib.h>
    #include "common.h"
    void format(const char *text) {
      (void)text;
      // forkguard:ignore fork-child-unsafe-call -- measured: this child is single-threaded
      free(malloc(8));
    }
    """.write(to: project.appendingPathComponent("format.c"), atomically: true, encoding: .utf8)
    #expect(Self.findings(try CheckRun.run(Self.options(project, session: session))).isEmpty)
  }

  @Test func editorBuffersAreNeverServedFromTheSession() throws {
    let project = try CacheAndShardTests.project()
    let session = CheckSession()
    let format = project.appendingPathComponent("format.c").path
    var options = Self.options(project, session: session)
    options.unsavedFiles = [format: "#include \"common.h\"\nvoid format(const char *text) { (void)text; }\n"]
    #expect(Self.findings(try CheckRun.run(options)).isEmpty)
    options.unsavedFiles = [:]
    #expect(Self.findings(try CheckRun.run(options)).count == 2)
  }
}
