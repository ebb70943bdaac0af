import ForkGuardCore
import ForkGuardDriver
import ForkGuardTestSupport
import Foundation
import Testing

/// Parsing only the files that can matter must find exactly what parsing everything finds.
@Suite("Demand-driven parsing")
struct DemandDrivenParsingTests {
  /// Each finding here needs a file that names no fork, handler or lock itself.
  static func project() throws -> URL {
    let directory = Scratch.root.appendingPathComponent("fg-demand-\(UUID().uuidString)")
    let files = [
      // The fork is hidden in a header's macro; the child's unsafe call is two files away.
      "include/proc.h": """
      #include <unistd.h>
      #define START_CHILD() fork()
      void log_line(const char *text);
      void format(const char *text);
      """,
      "spawn.c": """
      #include "proc.h"
      void spawn(void) { if (START_CHILD() == 0) { log_line("child"); _exit(0); } }
      """,
      "log.c": "#include \"proc.h\"\nvoid log_line(const char *text) { format(text); }\n",
      "format.c": "#include <stdlib.h>\nvoid format(const char *text) { (void)text; free(malloc(8)); }\n",
      // The handler is stored in a global by a file that registers nothing.
      "register.c": """
      #include <signal.h>
      extern void (*saved_handler)(int);
      void install(void) { signal(SIGTERM, saved_handler); }
      """,
      "store.c": "void quit(int signal_number);\nvoid (*saved_handler)(int) = quit;\n",
      "quit.c": "#include <stdio.h>\nvoid quit(int signal_number) { printf(\"%d\\n\", signal_number); }\n",
      // The lock is held by a caller whose file names no lock function.
      "lock.c": """
      #include <pthread.h>
      pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
      void take(void) { pthread_mutex_lock(&table_lock); }
      void release(void) { pthread_mutex_unlock(&table_lock); }
      """,
      "spawn_locked.c": """
      #include <unistd.h>
      void take(void);
      void spawn_locked(void) { if (fork() == 0) { take(); _exit(0); } }
      """,
      "caller.c":
        "void take(void); void release(void); void spawn_locked(void);\nvoid run(void) { take(); spawn_locked(); release(); }\n",
      // Reached by nothing.
      "arithmetic.c": "int add(int a, int b) { return a + b; }\n",
    ]
    for (name, text) in files {
      let url = directory.appendingPathComponent(name)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try text.write(to: url, atomically: true, encoding: .utf8)
    }
    return directory
  }

  static func run(_ directory: URL, everyFile: Bool, jobs: Int = 2) throws -> CheckRun.Result {
    var options = CheckRun.Options(paths: [directory.path], base: directory.path)
    options.searchesConfiguration = false
    options.usesCache = false
    options.jobs = jobs
    options.parsesEveryFile = everyFile
    return try CheckRun.run(options)
  }

  @Test func findsWhatParsingEverythingFindsWithoutTheUnreachableFile() throws {
    let directory = try Self.project()
    defer { try? FileManager.default.removeItem(at: directory) }
    let everything = try Self.run(directory, everyFile: true)
    #expect(everything.notNeeded == 0)
    let rules = Set(everything.diagnostics.compactMap(\.ruleID))
    #expect(rules == ["fork-child-unsafe-call", "signal-handler-unsafe-call", "lock-held-across-fork"])
    for jobs in [1, 2] {
      let needed = try Self.run(directory, everyFile: false, jobs: jobs)
      #expect(needed.diagnostics == everything.diagnostics)
      #expect(needed.notNeeded == 1)
      #expect(needed.filesAnalysed == everything.filesAnalysed)
    }
  }

  @Test func withoutAnyContextNothingIsParsed() throws {
    let directory = try Self.project()
    defer { try? FileManager.default.removeItem(at: directory) }
    var options = CheckRun.Options(paths: [directory.appendingPathComponent("arithmetic.c").path], base: directory.path)
    options.searchesConfiguration = false
    options.usesCache = false
    let result = try CheckRun.run(options)
    #expect(result.diagnostics.isEmpty && result.notNeeded == 1 && result.filesAnalysed == 1)
  }
}
