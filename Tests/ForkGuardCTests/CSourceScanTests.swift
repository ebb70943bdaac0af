import ForkGuardC
import ForkGuardTestSupport
import Foundation
import Testing

/// The text scan decides which files are parsed: every "no" it gives must be safe, so the
/// tests pin both what it must see and what it may leave out.
@Suite("C source scan")
struct CSourceScanTests {
  static func scan(_ text: String) -> CSourceScan { CSourceScan(bytes: Array(text.utf8)) }

  @Test func commentsAndLiteralsMentionNothing() {
    let scan = Self.scan(
      """
      // fork() here
      /* signal(SIGINT, h); */
      const char *s = "pthread_mutex_lock";
      char c = 'x';
      int n = 0x1fork;
      int f(void) { return spawn(); }
      """)
    #expect(!scan.identifiers.contains("fork"))
    #expect(!scan.identifiers.contains("signal"))
    #expect(!scan.identifiers.contains("pthread_mutex_lock"))
    #expect(scan.identifiers.contains("spawn"))
  }

  @Test func definitionsAreParameterListsAtFileScopeThatHaveABody() {
    let scan = Self.scan(
      """
      int declared(int);
      void noreturn_declared(void) __attribute__((noreturn));
      const char *with_asm(void) __asm__("x"), other(void);
      int (*pointer)(int) = 0;
      static int hidden(void) { return 0; }
      void
      defined(int i)
      {
        called(i);
      }
      void (*returns_pointer(int sig))(int) { return 0; }
      int knr(a, b) int a; char *b; { return a; }
      void attributed(void) __attribute__((cold)) { }
      """)
    #expect(scan.fileScopeDefinitions.isSuperset(of: ["defined", "returns_pointer", "knr", "attributed"]))
    #expect(
      scan.fileScopeDefinitions.isDisjoint(with: [
        "declared", "noreturn_declared", "with_asm", "other", "hidden", "called",
      ]))
  }

  @Test func macrosRecordTheirReplacementAndWhatTheyPaste() {
    let scan = Self.scan(
      """
      #define SPAWN() fork()
      #define GETTER(name) int get_ ## name(void) { return name; }
      #define MASK(m) int m ## _debug_mask
      #define ANY(a, b) a ## b
      #define NOTHING(x)
      #undef signal
      #if defined(vfork)
      #endif
      """)
    #expect(scan.identifiers.contains("fork"))
    #expect(!scan.identifiers.contains("SPAWN"))
    #expect(!scan.identifiers.contains("vfork") && !scan.identifiers.contains("signal"))
    #expect(scan.macros["GETTER"]?.pastedFragments == [.init(text: "get_", position: .prefix)])
    #expect(scan.macros["GETTER"]?.hasBraces == true)
    #expect(scan.macros["MASK"]?.pastedFragments == [.init(text: "_debug_mask", position: .suffix)])
    #expect(scan.macros["ANY"]?.pastesParameters == true)
    #expect(scan.macros["NOTHING"]?.usesParameters == false)
  }

  @Test func includesAndComputedIncludes() {
    let scan = Self.scan("#include \"local.h\"\n#  include <sys/types.h>\n#include HEADER\n")
    #expect(scan.includes.map(\.name) == ["local.h", "sys/types.h"])
    #expect(scan.includes.map(\.isQuoted) == [true, false])
    #expect(scan.hasComputedInclude)
  }

  @Test func binaryIsNotText() {
    #expect(!CSourceScan(bytes: [0x7f, 0x45, 0x4c, 0x46, 0, 1]).isText)
    #expect(!CSourceScan(bytes: [0xff, 0xfe, 0x41]).isText)
  }

  // MARK: The index over translation units

  static func project(_ files: [String: String]) throws -> URL {
    let directory = Scratch.root.appendingPathComponent("fg-scan-\(UUID().uuidString)")
    for (name, text) in files {
      let url = directory.appendingPathComponent(name)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try text.write(to: url, atomically: true, encoding: .utf8)
    }
    return directory
  }

  /// The index over `units` (in that order) of a scratch project holding `files`; `include`
  /// folders, relative to the project, are given as `-I`.
  static func index(_ files: [String: String], units: [String], include: [String] = []) throws -> CSourceIndex {
    let root = try project(files)
    return CSourceIndex(
      units: units.map {
        CSourceIndex.Unit(
          file: root.appendingPathComponent($0).path, arguments: include.map { "-I\(root.path)/\($0)" })
      })
  }

  @Test func aHeaderMacroMakesItsIncludersMentionWhatItExpandsTo() throws {
    let index = try Self.index(
      [
        "include/spawn.h": "#define SPAWN() fork()\n",
        "include/unused.h": "#define OTHER() vfork()\n",
        "a.c": "#include <spawn.h>\nvoid a(void) { SPAWN(); }\n",
        "b.c": "#include \"include/unused.h\"\nvoid b(void) { }\n",
        "c.c": "void c(void) { }\n",
      ], units: ["a.c", "b.c", "c.c"], include: ["include"])
    #expect(index.units(mentioning: "fork") == [0])
    #expect(index.units(mentioning: "vfork") == [1])
    #expect(index.units(mentioningAnyOf: ["fork"]) { $0 == "fork" } == [0])
    #expect(index.unitsToParse.isEmpty)
  }

  @Test func aUnitSpellsWhatItsOwnTextNamesNotWhatItsHeadersDo() throws {
    // openssh's bsd-misc.h, read by every file: `#define setlinebuf(a) (setvbuf(...))`.
    let index = try Self.index(
      [
        "compat.h": "#define setlinebuf(a) (setvbuf((a), NULL, _IOLBF, 0))\n",
        "sftp.c": "#include \"compat.h\"\nvoid f(void) { setvbuf(stdout, 0, 1, 0); }\n",
        "ssh.c": "#include \"compat.h\"\nvoid g(void) { }\n",
        "log.c": "#include \"compat.h\"\nvoid h(void) { setlinebuf(stderr); }\n",
      ], units: ["sftp.c", "ssh.c", "log.c"])
    #expect(index.units(mentioning: "setvbuf") == [0, 1, 2])
    #expect(index.units(spelling: "setvbuf") == [0])
    #expect(index.units(spelling: "setlinebuf") == [2])
  }

  @Test func definitionsMadeByMacrosAndHeadersAreFound() throws {
    let index = try Self.index(
      [
        "defs.h": "#define GETTER(name) int get_ ## name(void) { return 0; }\n#define DECLARE(f) int f(void)\n",
        "getters.c": "#include \"defs.h\"\nGETTER(pid)\n",
        "declares.c": "#include \"defs.h\"\nDECLARE(helper);\n",
        "defines.c": "#include \"defs.h\"\nDECLARE(helper) { return 1; }\n",
        "other.c": "int get_other(void);\nint helper(void);\n",
        "computed.c": "#include HEADER\n",
      ], units: ["getters.c", "declares.c", "defines.c", "other.c", "computed.c"])
    #expect(index.units(mayDefine: "get_pid") == [0])
    #expect(index.units(mayDefine: "helper") == [2])
    #expect(index.unitsToParse == [4])
  }
}
