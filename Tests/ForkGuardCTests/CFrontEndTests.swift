import ForkGuardC
import ForkGuardCore
import Foundation
import Testing

@Suite("C front end")
struct CFrontEndTests {
  func facts(_ source: String) throws -> FileFacts {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("fg-\(UUID().uuidString).c").path
    try source.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let frontEnd = CFrontEnd(knowledge: try Knowledge())
    return try frontEnd.facts(for: path, arguments: CFrontEnd.defaultArguments(for: path, includeDirectories: []))
  }

  @Test func callsCarryUSRsAndExpansionLocations() throws {
    let file = try facts(
      """
      #include <stdio.h>
      static void helper(void) { puts("x"); }
      #define CALL_HELPER() helper()
      void run(void) { CALL_HELPER(); }
      """)
    let run = try #require(file.functions.first { $0.name == "run" })
    #expect(run.calls.map(\.callee) == ["helper"])
    #expect(run.calls.first?.location.line == 4)
    #expect(run.calls.first?.symbol?.contains("helper") == true)
    let helper = try #require(file.functions.first { $0.name == "helper" })
    #expect(run.calls.first?.symbol == helper.symbol)
  }

  @Test func systemHeaderFunctionsAreNotExtracted() throws {
    let file = try facts("#include <stdlib.h>\nvoid f(void) { abort(); }\n")
    #expect(file.functions.map(\.name) == ["f"])
  }

  @Test func registrationsOfEveryKind() throws {
    let file = try facts(
      """
      #define _GNU_SOURCE
      #include <pthread.h>
      #include <sched.h>
      #include <signal.h>
      static void h(int s) { (void)s; }
      static void c(void) {}
      static int entry(void *a) { (void)a; return 0; }
      void install(char *stack) {
        signal(SIGINT, h);
        signal(SIGPIPE, SIG_IGN);
        pthread_atfork(c, NULL, c);
        clone(entry, stack, CLONE_VM | CLONE_VFORK | SIGCHLD, 0);
      }
      """)
    let kinds = file.registrations.map(\.kind.rawValue).sorted()
    #expect(kinds == ["atforkChild", "atforkPrepare", "cloneVforkChild", "signalHandler"])
  }

  @Test func childRegionOfAForkIdiom() throws {
    let file = try facts(
      """
      #include <stdio.h>
      #include <unistd.h>
      void spawn(char *const argv[]) {
        pid_t pid;
        if ((pid = fork()) < 0) { perror("fork"); return; }
        if (pid) return;
        puts("child");
        execv(argv[0], argv);
        _exit(1);
      }
      """)
    let region = try #require(file.childRegions.first)
    #expect(region.kind == .fork)
    #expect(region.calls.map(\.callee) == ["puts", "execv", "_exit"])
    #expect(region.returns.isEmpty)
  }

  @Test func incompleteParseIsRecordedNotFatal() throws {
    let file = try facts("#include \"nowhere.h\"\nvoid f(void) { g(); }\n")
    #expect(file.parseProblem?.message.contains("nowhere.h") == true)
    #expect(file.functions.map(\.name) == ["f"])
  }

  @Test func unparsableFileIsAnErrorNamingIt() throws {
    let frontEnd = CFrontEnd(knowledge: try Knowledge())
    #expect(throws: CFrontEnd.ParseFailure.self) {
      _ = try frontEnd.facts(for: "/nonexistent/file.c", arguments: [])
    }
  }
}
