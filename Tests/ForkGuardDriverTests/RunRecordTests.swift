import ForkGuardCore
import ForkGuardDriver
import Foundation
import Testing

/// A check whose record still holds is replayed, and gives exactly what a whole run gives;
/// anything that could change the outcome makes it a whole run again.
@Suite("Run records")
struct RunRecordTests {
  /// CacheAndShardTests' three-file project, its files dated a minute back: a run keeps no
  /// record of files modified as it starts (they may be mid-edit).
  static func project() throws -> URL {
    let project = try CacheAndShardTests.project()
    try "#include \"common.h\"\nvoid unused_helper(void) {}\n".write(
      to: project.appendingPathComponent("other.c"), atomically: true, encoding: .utf8)
    try age(project)
    return project
  }

  static func age(_ project: URL) throws {
    for name in try FileManager.default.contentsOfDirectory(atPath: project.path) {
      try FileManager.default.setAttributes(
        [.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: project.appendingPathComponent(name).path)
    }
    // The folder too: a parse that missed a header depends on the folders it looked in.
    try FileManager.default.setAttributes(
      [.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: project.path)
  }

  /// Beside the project, not in it: the cache's own folder appearing must not move the
  /// project folder's stamp.
  static func cache(_ project: URL) -> URL { URL(fileURLWithPath: project.path + "-cache") }

  /// Writes one file, dated back as well (the others keep their stamps).
  static func write(_ text: String, _ name: String, in project: URL) throws {
    let path = project.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    for place in [path, project.path] {
      try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -30)], ofItemAtPath: place)
    }
  }

  static func run(_ project: URL, _ change: (inout CheckRun.Options) -> Void = { _ in })
    throws -> (result: CheckRun.Result, phases: [String])
  {
    var options = CacheAndShardTests.options(project, cache: Self.cache(project))
    options.searchesConfiguration = true
    change(&options)
    let phases = Phases()
    options.timings = { name, _ in phases.names.append(name) }
    return (try CheckRun.run(options), phases.names)
  }

  final class Phases { var names: [String] = [] }

  static func replayed(_ phases: [String]) -> Bool { phases.contains { $0.hasPrefix("replay") } }

  @Test func anUnchangedTreeIsReplayedWithTheSameDiagnostics() throws {
    let project = try Self.project()
    let cold = try Self.run(project)
    #expect(!Self.replayed(cold.phases) && cold.phases.contains("run record"))
    let warm = try Self.run(project)
    #expect(Self.replayed(warm.phases) && !warm.phases.contains { $0.hasPrefix("lock summaries") })
    #expect(warm.result.diagnostics == cold.result.diagnostics)
    #expect(warm.result.diagnostics.contains { $0.ruleID == "fork-child-unsafe-call" })
    #expect(warm.result.parsed == 0 && warm.result.cacheHits == cold.result.parsed)
    #expect(warm.result.filesAnalysed == cold.result.filesAnalysed && warm.result.notNeeded == cold.result.notNeeded)
  }

  @Test func filesTouchedWithTheSameBytesAreNotChanged() throws {
    let project = try Self.project()
    let cold = try Self.run(project)
    // A fresh checkout: every file rewritten with the same bytes, parsed or not.
    for name in ["spawn.c", "log.c", "format.c", "other.c", "common.h"] {
      try Self.write(try String(contentsOf: project.appendingPathComponent(name), encoding: .utf8), name, in: project)
    }
    let warm = try Self.run(project)
    #expect(warm.phases.contains("replay (0 re-parsed)"))
    #expect(warm.result.diagnostics == cold.result.diagnostics)
  }

  @Test func aCommentThatLeavesTheFactsAloneIsReplayedAfterOneParse() throws {
    let project = try Self.project()
    let cold = try Self.run(project)
    let text = try String(contentsOf: project.appendingPathComponent("format.c"), encoding: .utf8)
    try Self.write(text + "/* a comment at the end */\n", "format.c", in: project)
    let warm = try Self.run(project)
    #expect(warm.phases.contains("replay (1 re-parsed)"))
    #expect(warm.result.diagnostics == cold.result.diagnostics)
    // The record now has the new stamp: the next run parses nothing.
    #expect(try Self.run(project).phases.contains("replay (0 re-parsed)"))
  }

  @Test func aChangeToTheFactsRunsTheWholeCheck() throws {
    let project = try Self.project()
    _ = try Self.run(project)
    try Self.write(
      "#include <stdlib.h>\n#include \"common.h\"\nvoid format(const char *text) { (void)text; }\n", "format.c",
      in: project)
    let edited = try Self.run(project)
    #expect(!Self.replayed(edited.phases))
    #expect(edited.result.diagnostics.filter { $0.ruleID != nil }.isEmpty)
  }

  @Test func aHeaderWhoseContentChangedRunsTheWholeCheck() throws {
    let project = try Self.project()
    let cold = try Self.run(project)
    // Same bytes, new time: nothing to re-parse.
    try FileManager.default.setAttributes(
      [.modificationDate: Date(timeIntervalSinceNow: -30)],
      ofItemAtPath: project.appendingPathComponent("common.h").path)
    #expect(try Self.run(project).phases.contains("replay (0 re-parsed)"))
    // New content, even a declaration nothing uses: a whole run (the functions a header
    // defines are in no one includer's digest).
    try Self.write(
      "void log_line(const char *text);\nvoid format(const char *text);\nvoid more(void);\n", "common.h", in: project)
    let warm = try Self.run(project)
    #expect(!Self.replayed(warm.phases))
    #expect(warm.result.diagnostics == cold.result.diagnostics)
    // A macro that turns the child's call into another: the whole check runs.
    try Self.write(
      "void log_line(const char *text);\nvoid format(const char *text);\n#define log_line(x) ((void)(x))\n", "common.h",
      in: project)
    let changed = try Self.run(project)
    #expect(!Self.replayed(changed.phases))
    #expect(changed.result.diagnostics.filter { $0.ruleID != nil }.isEmpty)
  }

  @Test func aFileTheLastRunLeftUnparsedRunsTheWholeCheck() throws {
    let project = try Self.project()
    let cold = try Self.run(project)
    #expect(cold.result.notNeeded == 1)
    try Self.write(
      "#include <unistd.h>\n#include <stdio.h>\nvoid unused_helper(void) { if (fork() == 0) { printf(\"x\"); _exit(0); } }\n",
      "other.c", in: project)
    let warm = try Self.run(project)
    #expect(!Self.replayed(warm.phases))
    #expect(warm.result.diagnostics.contains { $0.location.file.hasSuffix("other.c") })
  }

  @Test func configurationRulesDataAndOptionsAreInTheKey() throws {
    let project = try Self.project()
    _ = try Self.run(project)
    // A configuration file that was not there: not the record's key.
    try Self.write("rules:\n  fork-child-unsafe-call: off\n", ".forkguard.yml", in: project)
    let configured = try Self.run(project)
    #expect(!Self.replayed(configured.phases))
    #expect(!configured.result.diagnostics.contains { $0.ruleID == "fork-child-unsafe-call" })
    #expect(Self.replayed(try Self.run(project).phases))
    // Another option: another key.
    #expect(!Self.replayed(try Self.run(project) { $0.maxChainDepth = 0 }.phases))
  }

  @Test func suppressionsAreAppliedAgainToAReplay() throws {
    let project = try Self.project()
    let cold = try Self.run(project)
    let finding = try #require(cold.result.diagnostics.first { $0.ruleID == "fork-child-unsafe-call" })
    let name = (finding.location.file as NSString).lastPathComponent
    let lines = try String(contentsOf: project.appendingPathComponent(name), encoding: .utf8)
      .components(separatedBy: "\n")
    // At the end of the finding's line: no line moves, so the facts stay the same.
    var edited = lines
    edited[finding.location.line - 1] += " // forkguard:ignore fork-child-unsafe-call -- test"
    try Self.write(edited.joined(separator: "\n"), name, in: project)
    let warm = try Self.run(project)
    #expect(Self.replayed(warm.phases))
    #expect(!warm.result.diagnostics.contains { $0.location == finding.location && $0.ruleID == finding.ruleID })
  }

  @Test func runsThatCannotBeReplayedKeepNoRecord() throws {
    let project = try Self.project()
    let baseline = project.appendingPathComponent("baseline.json").path
    let written = try Self.run(project) { $0.writeBaselinePath = baseline }
    #expect(!written.phases.contains("run record"))
    let read = try Self.run(project) { $0.baselinePath = baseline }
    #expect(!Self.replayed(read.phases) && !read.phases.contains("run record"))
    #expect(read.result.baselined > 0)
    let unaged = try CacheAndShardTests.project()
    #expect(!(try Self.run(unaged).phases.contains("run record")))
  }

  // MARK: The language server's session

  /// A session check with `spawn.c` open as `text`, and a fresh check (no session, no
  /// cache) of the same buffers, whose diagnostics the session's must equal.
  static func sessionCheck(_ project: URL, _ session: CheckSession, spawn text: String)
    throws -> (session: (result: CheckRun.Result, phases: [String]), fresh: [Diagnostic])
  {
    let spawn = project.appendingPathComponent("spawn.c").path
    let checked = try Self.run(project) {
      $0.session = session
      $0.unsavedFiles = [spawn: text]
    }
    var fresh = CacheAndShardTests.options(project, cache: nil)
    fresh.unsavedFiles = [spawn: text]
    return (checked, try CheckRun.run(fresh).diagnostics)
  }

  @Test func aSessionMovesFindingsPastLinesTheFactsDoNotMention() throws {
    let project = try Self.project()
    let session = CheckSession()
    let text = try String(contentsOf: project.appendingPathComponent("spawn.c"), encoding: .utf8)
    let first = try Self.sessionCheck(project, session, spawn: text)
    #expect(!Self.replayed(first.session.phases) && first.session.phases.contains("run record"))
    #expect(first.session.result.diagnostics == first.fresh)
    #expect(first.fresh.contains { $0.notes.contains { $0.location.file.hasSuffix("spawn.c") } })
    // Comment lines above the fork: the finding's notes in spawn.c move down by two.
    let top = try Self.sessionCheck(project, session, spawn: "/* one */\n/* two */\n" + text)
    #expect(top.session.phases.contains("replay (1 re-parsed)"))
    #expect(top.session.result.diagnostics == top.fresh)
    #expect(top.session.result.diagnostics != first.fresh)
    // A line inside the function, after the fork: only what is below it moves.
    var lines = text.components(separatedBy: "\n")
    let fork = try #require(lines.firstIndex { $0.contains("fork()") })
    lines[fork] = lines[fork].replacingOccurrences(of: "{ if", with: "{\n  /* here */\n  if")
    let inside = try Self.sessionCheck(
      project, session, spawn: "/* one */\n/* two */\n" + lines.joined(separator: "\n"))
    #expect(inside.session.result.diagnostics == inside.fresh)
    // An edit to what the code does runs every phase, and still agrees with a fresh check.
    let code = try Self.sessionCheck(
      project, session, spawn: text.replacingOccurrences(of: "log_line(\"child\");", with: ""))
    #expect(!Self.replayed(code.session.phases))
    #expect(code.session.result.diagnostics == code.fresh)
    #expect(!code.fresh.contains { $0.ruleID == "fork-child-unsafe-call" })
  }

  /// openssh's logging macros pass `__LINE__`: a line inserted above such a call changes
  /// its argument with its line, which is not a change to what the code does; nor is the
  /// byte offset in the USR of an anonymous struct's field (sshd.c's `sensitive_data`).
  @Test func aSessionMovesFindingsPastCallsThatPassTheirOwnLine() throws {
    let project = try Self.project()
    let session = CheckSession()
    let text =
      try String(contentsOf: project.appendingPathComponent("spawn.c"), encoding: .utf8)
        + """

        extern void trace_line(int, const char *);
        #define TRACE(what) trace_line(__LINE__, what)
        void traced(void) { TRACE(
          "here"); }
        #include <pthread.h>
        static struct { int ready; pthread_mutex_t mu; } state;
        void locked(void) { pthread_mutex_lock(&state.mu); state.ready = 1; pthread_mutex_unlock(&state.mu); }

        """
    let first = try Self.sessionCheck(project, session, spawn: text)
    #expect(!Self.replayed(first.session.phases))
    let top = try Self.sessionCheck(project, session, spawn: "/* one */\n" + text)
    #expect(top.session.phases.contains("replay (1 re-parsed)"))
    #expect(top.session.result.diagnostics == top.fresh)
    // The same constant written out stays put as its call moves: that is a change.
    let lines = text.components(separatedBy: "\n")
    let traced = try #require(lines.firstIndex { $0.hasPrefix("void traced") })
    let atItsLine = text.replacingOccurrences(
      of: "TRACE(\n  \"here\");", with: "trace_line(\(traced + 1), \"here\");")
    #expect(atItsLine != text)
    _ = try Self.sessionCheck(project, session, spawn: atItsLine)
    let moved = try Self.sessionCheck(project, session, spawn: "/* one */\n" + atItsLine)
    #expect(!Self.replayed(moved.session.phases))
    #expect(moved.session.result.diagnostics == moved.fresh)
  }

  @Test func aSessionWithAnUnsavedHeaderKeepsNoRecord() throws {
    let project = try Self.project()
    let session = CheckSession()
    let header = project.appendingPathComponent("common.h").path
    let checked = try Self.run(project) {
      $0.session = session
      $0.unsavedFiles = [header: "void log_line(const char *text);\nvoid format(const char *text);\n"]
    }
    #expect(!checked.phases.contains("run record"))
  }

  @Test func aFunctionDefinedInAHeaderDoesNotStopTheReplayOfAnIncluder() throws {
    let project = try Self.project()
    // Every includer's parse has `helper`; a run keeps it in the first file's facts only.
    try Self.write(
      "void log_line(const char *text);\nvoid format(const char *text);\nstatic inline int helper(void) { return 1; }\n",
      "common.h", in: project)
    let cold = try Self.run(project)
    let text = try String(contentsOf: project.appendingPathComponent("spawn.c"), encoding: .utf8)
    try Self.write(text + "/* appended */\n", "spawn.c", in: project)
    let warm = try Self.run(project)
    #expect(warm.phases.contains("replay (1 re-parsed)"))
    #expect(warm.result.diagnostics == cold.result.diagnostics)
  }

  @Test func aHeaderThatWasMissingAndAppearsRunsTheWholeCheck() throws {
    let project = try Self.project()
    // spawn.c reads config.h, which a configure step has not written yet.
    try Self.write(
      """
      #include <unistd.h>
      #include "config.h"
      #include "common.h"
      void spawn(void) { if (fork() == 0) { CHILD_WORK; _exit(0); } }
      """, "spawn.c", in: project)
    let before = try Self.run(project)
    #expect(before.result.incompleteParses == 1)
    #expect(Self.replayed(try Self.run(project).phases))
    // Now it is there, and it makes the child call log_line: neither the facts cache nor the
    // run record may serve the facts of the parse without it.
    try Self.write("#define CHILD_WORK log_line(\"child\")\n", "config.h", in: project)
    let after = try Self.run(project)
    #expect(!Self.replayed(after.phases))
    #expect(after.result.incompleteParses == 0)
    #expect(after.result.diagnostics.contains { $0.ruleID == "fork-child-unsafe-call" })
  }
}
