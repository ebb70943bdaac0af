import ForkGuardC
import ForkGuardCore
import ForkGuardTestSupport
import Foundation
import Testing

@Suite("C front end")
struct CFrontEndTests {
  func facts(_ source: String) throws -> FileFacts {
    let path = Scratch.root.appendingPathComponent("fg-\(UUID().uuidString).c").path
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

  /// Every way C says a function never returns, on its definition and on a declaration a
  /// call sees; attributes that say something else, and names that merely contain the word,
  /// do not count.
  @Test func declaredNeverToReturn() throws {
    let file = try facts(
      """
      #include <stdnoreturn.h>
      #include <stdlib.h>
      #define PRIVATE static
      #define DIES __attribute__((__noreturn__))
      #define NORETURN _Noreturn
      #define API __attribute__((visibility("default")))
      _Noreturn void keyword(void) { abort(); }
      noreturn void header_macro(void) { abort(); }
      void after_declarator(void) __attribute__((__noreturn__));
      void after_declarator(void) { abort(); }
      DIES void macro_attribute(void) { abort(); }
      PRIVATE NORETURN void private_keyword(void) { abort(); }
      PRIVATE void private_plain(void) { }
      API void visible(void) { }
      __attribute__((unused)) static void unused_but_returns(void) { }
      static void noreturn_in_name(int noreturn_flag) { (void)noreturn_flag; }
      _Noreturn void declared_only(void);
      NORETURN void declared_then_defined(void);
      void declared_then_defined(void) { abort(); }
      void caller(void) { private_plain(); visible(); unused_but_returns(); noreturn_in_name(0); declared_only(); }
      """)
    let never = Set(file.functions.filter(\.neverReturns).map(\.name))
    #expect(
      never == [
        "keyword", "header_macro", "after_declarator", "macro_attribute", "private_keyword", "declared_then_defined",
      ])
    let caller = try #require(file.functions.first { $0.name == "caller" })
    #expect(caller.calls.filter(\.neverReturns).map(\.callee) == ["declared_only"])
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

  /// A buffer built through a cursor: the first bytes by offset, a length in a range where a
  /// branch may step the cursor, and the last bytes whatever the length.
  @Test func cursorBuiltBufferPassesItsBytesAndLength() throws {
    let file = try facts(
      """
      void take(unsigned char *p, long n);
      void build(int x, unsigned char *other) {
        unsigned char tmp[16];
        unsigned char *cp = tmp;
        *cp++ = 255;
        *cp++ = 31;
        if ((*cp++ = x) == 255)
          *cp++ = 255;
        *cp++ = 255;
        *cp++ = 240;
        take(tmp + 1, cp - tmp - 1);
        cp = other;
        take(tmp + 1, cp - tmp - 1);
      }
      void through(int x) {
        unsigned char tmp[16];
        unsigned char *cp = tmp;
        *cp++ = 31;
        *cp = x;
        take(tmp, cp - tmp);
        *(cp - 1) = x;
        take(tmp, cp - tmp);
      }
      void looped(const char *s) {
        unsigned char tmp[16];
        unsigned char *cp = tmp;
        *cp++ = 31;
        while (*s)
          *cp++ = *s++;
        take(tmp, cp - tmp);
      }
      """)
    let build = try #require(file.functions.first { $0.name == "build" })
    let first = build.calls[0].argumentValues
    #expect(first[0] == .delimited(elements: [0: 31], lengthArgument: 1, fromEnd: [1: 240, 2: 255]))
    #expect(first[1] == .within(low: 4, high: 5))
    // Once the cursor is set to something else, stores through it may land anywhere.
    #expect(build.calls[1].argumentValues[0] == nil)
    #expect(build.calls[1].argumentValues[1] == nil)
    let through = try #require(file.functions.first { $0.name == "through" })
    #expect(through.calls[0].argumentValues[0] == .elements([0: 31]))
    #expect(through.calls[1].argumentValues[0] == nil)
    let looped = try #require(file.functions.first { $0.name == "looped" })
    #expect(looped.calls[0].argumentValues[0] == .elements([0: 31]))
    #expect(looped.calls[0].argumentValues[1] == nil)
  }

  /// A macro's body hides its operators from libclang: a cursor stepped there has an
  /// unknown offset (the bytes before it and the ones written after it stay known), and no
  /// operator is guessed from the macro call's tokens.
  /// `*cp++` in a macro's body, `cp` its argument: the step is read two tokens after the
  /// `*`, and the cursor's offset stays known. Written `*(p)++`, it is not read: the offset
  /// is lost, the bytes written after it are not.
  @Test func cursorSteppedInAMacroKeepsItsOffsetWhereTheStepIsRead() throws {
    let file = try facts(
      """
      void take(unsigned char *p, long n);
      #define PUT(cp, x) { if ((*cp++ = (x)) == 255) *cp++ = 255; }
      #define PUT_PARENTHESISED(p, x) { if ((*(p)++ = (x)) == 255) *(p)++ = 255; }
      void build(int x) {
        unsigned char tmp[16];
        unsigned char *cp = tmp;
        *cp++ = 255;
        *cp++ = 31;
        PUT(cp, x);
        *cp++ = 255;
        *cp++ = 240;
        take(tmp + 1, cp - tmp - 1);
      }
      void build_parenthesised(int x) {
        unsigned char tmp[16];
        unsigned char *cp = tmp;
        *cp++ = 255;
        *cp++ = 31;
        PUT_PARENTHESISED(cp, x);
        *cp++ = 255;
        *cp++ = 240;
        take(tmp + 1, cp - tmp - 1);
      }
      """)
    let build = try #require(file.functions.first { $0.name == "build" })
    #expect(
      build.calls[0].argumentValues[0] == .delimited(elements: [0: 31], lengthArgument: 1, fromEnd: [1: 240, 2: 255]))
    // Two bytes, then one or two from PUT, then two: 5 or 6 from tmp, 4 or 5 from tmp + 1.
    #expect(build.calls[0].argumentValues[1] == .within(low: 4, high: 5))
    let parenthesised = try #require(file.functions.first { $0.name == "build_parenthesised" })
    #expect(
      parenthesised.calls[0].argumentValues[0]
        == .delimited(elements: [0: 31], lengthArgument: 1, fromEnd: [1: 240, 2: 255]))
    #expect(parenthesised.calls[0].argumentValues[1] == nil)
  }

  /// `i = pointer[length - 2]` copies what is known of that element; `length -= 2` moves
  /// what is known of `length`.
  @Test func copiesAndAdjustmentsAreStoredValues() throws {
    let file = try facts(
      """
      void use(int);
      void f(unsigned char *pointer, int length) {
        int i = pointer[length - 2];
        length -= 2;
        length++;
        use(i);
      }
      """)
    let function = try #require(file.functions.first)
    let values = function.nonLocalWrites.map(\.value) + Self.localWrites(function.body).map(\.value)
    #expect(values.contains(.copy("pointer[length-2]")))
    #expect(values.contains(.adjusted(-2)))
    #expect(values.contains(.adjusted(1)))
  }

  /// `ty = hi + he - 1` is a sum of the function's variables; `&argc` passed to a call is a
  /// store to `argc` (inetd's `argcv_get(linebuf, "", &argc, &argv)` sets it).
  @Test func sumsAndAddressesTakenAreStores() throws {
    let file = try facts(
      """
      int get(int *count);
      int f(int hi, int he) {
        int ty = hi + he - 1;
        int argc = 0;
        get(&argc);
        return ty + argc;
      }
      """)
    let function = try #require(file.functions.first)
    let writes = Self.localWrites(function.body)
    #expect(writes.contains { $0.variable == "ty" && $0.value == .sum(terms: ["hi": 1, "he": 1], constant: -1) })
    #expect(writes.filter { $0.variable == "argc" }.map(\.value) == [.constant(0), nil])
  }

  /// A function returning a function pointer, written without a typedef, has the return
  /// type's parameters among its children: its own are (sig, func).
  @Test func parametersOfAFunctionReturningAFunctionPointer() throws {
    let file = try facts(
      """
      void (*xsignal(int sig, void (*func)(int)))(int) { (void)sig; return func; }
      """)
    #expect(file.functions.first?.parameters == ["sig", "func"])
  }

  static func localWrites(_ node: FlowNode) -> [MemoryWrite] {
    switch node {
    case .block(let nodes): return nodes.flatMap(localWrites)
    case .branch(_, let a, let b): return localWrites(a) + localWrites(b)
    case .loop(let body): return localWrites(body)
    case .switchOn(_, let arms): return arms.flatMap { localWrites($0.body) }
    case .write(let write): return [write]
    case .call, .jump, .declare, .returnValue, .returnConstant: return []
    }
  }
}
