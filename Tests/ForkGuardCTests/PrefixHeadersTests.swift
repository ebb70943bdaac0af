import ForkGuardCore
import ForkGuardTestSupport
import Foundation
import Testing

@testable import ForkGuardC

@Suite("Precompiled prefix headers")
struct PrefixHeadersTests {
  /// A folder of C files in the scratch area, removed with `remove()`.
  struct Project {
    let root = Scratch.root.appendingPathComponent("prefix-\(UUID().uuidString)")

    init(folders: [String] = []) throws {
      for folder in [""] + folders {
        try FileManager.default.createDirectory(
          at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
      }
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
      let path = root.appendingPathComponent(name).path
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      return path
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
  }

  static let arguments: @Sendable (String) -> [String] = {
    CFrontEnd.defaultArguments(for: $0, includeDirectories: [])
  }

  func leading(_ text: String) -> [PrefixHeaders.Directive] {
    PrefixHeaders.leadingDirectives(in: Data(text.utf8))
  }

  @Test func leadingDirectivesEndAtTheFirstOtherLine() {
    #expect(leading("#include \"cache.h\"\nint x;\n#include \"late.h\"\n") == [.quoted("cache.h")])
    #expect(
      leading("/* licence\n * text */\n// more\n\n  #  include \"a/b.h\" // why\n#include <stdio.h>\nint x;")
        == [.quoted("a/b.h"), .angled("stdio.h")])
    #expect(
      leading("#define USE_THE_INDEX_VARIABLE\n#include \"builtin.h\"\n#undef  X /* c */\n")
        == [.definition("#define USE_THE_INDEX_VARIABLE"), .quoted("builtin.h"), .definition("#undef X")])
    #expect(leading("#if 1\n#include \"x.h\"\n#endif\n") == [])
    #expect(leading("#include \"x.h\" int y;\n") == [])
    #expect(leading("#include MACRO\n") == [])
    // A continued line could hide anything; an unclosed comment too.
    #expect(leading("#include <a.h>\n#define LONG \\\n 1\n#include <b.h>\n") == [.angled("a.h")])
    #expect(leading("#include <a.h>\n/* never closed") == [.angled("a.h")])
    #expect(leading("") == [])
    // A literal in a definition could hold what looks like a comment: the run ends there.
    #expect(leading("#include <a.h>\n#define PATTERN \"/*\"\n#include <b.h>\n") == [.angled("a.h")])
  }

  @Test func otherLanguagesAndAnotherPCHAreLeftAlone() {
    #expect(PrefixHeaders.acceptsPrefix(["-x", "c", "-std=gnu17"]))
    #expect(!PrefixHeaders.acceptsPrefix(["-x", "c++"]))
    #expect(!PrefixHeaders.acceptsPrefix(["-include-pch", "a.pch"]))
  }

  /// A project whose files open with the same guarded header: parsed on one precompiled
  /// header, every file's facts are byte for byte those of a whole parse.
  @Test func factsOnAPrefixAreThoseOfAWholeParse() throws {
    let project = try Project(folders: ["sub"])
    defer { project.remove() }
    let write = project.write
    try write(
      "common.h",
      """
      #ifndef COMMON_H
      #define COMMON_H
      #include <signal.h>
      #include <stdlib.h>
      #include <unistd.h>
      #include "helpers.h"
      static int flags;
      static inline void *checked(size_t n) { void *p = malloc(n); if (!p) abort(); return p; }
      static inline void spawn(void) { if (fork() == 0) { free(checked(1)); _exit(0); } }
      #endif
      """)
    try write(
      "helpers.h",
      """
      #pragma once
      void on_signal(int);
      static inline void install(void) { signal(SIGTERM, on_signal); }
      """)
    let files = [
      try write("a.c", "/* a */\n#include \"common.h\"\nvoid on_signal(int s) { flags |= 1; free(checked(2)); }\n"),
      try write("b.c", "#include \"common.h\"\nint main(void) { install(); spawn(); return flags; }\n"),
      try write("sub/c.c", "#include \"../common.h\"\nvoid c(void) { spawn(); }\n"),
      try write("d.c", "#include \"common.h\"\n#define EXTRA 1\nvoid d(void) { spawn(); }\n"),
      try write("e.c", "#define FLAG 2\n#include <stdio.h>\n#include \"common.h\"\nvoid e(void) { spawn(); }\n"),
      try write("f.c", "#define FLAG 2\n#include <stdio.h>\n#include \"common.h\"\nint f(void) { return FLAG; }\n"),
    ]
    let knowledge = try Knowledge()
    let arguments = Self.arguments
    func encoded(_ prefixHeaders: PrefixHeaders?) throws -> [Data] {
      let frontEnd = CFrontEnd(knowledge: knowledge, prefixHeaders: prefixHeaders)
      return try files.map { file in
        FactsCoding.encode([
          try frontEnd.facts(for: file, arguments: arguments(file))
        ])
      }
    }
    let prefixHeaders = PrefixHeaders(files: files, arguments: arguments)
    let onPrefix = try encoded(prefixHeaders)
    // a.c, b.c and d.c open with `#include "common.h"` (d.c defines a macro after it), e.c
    // and f.c with the same definition and two headers; sub/c.c is alone in its folder.
    #expect(prefixHeaders.builtCount == 2)
    #expect(onPrefix == (try encoded(nil)))
  }

  /// A header without a guard would be read twice (the PCH, then the file's own include):
  /// the prefix ends before it.
  @Test func aPrefixEndsBeforeAnUnguardedHeader() throws {
    let project = try Project()
    defer { project.remove() }
    // Read twice, its struct would be defined twice: an error.
    try project.write("plain.h", "struct counter { int value; };\n")
    let files = try ["x", "y", "z"].map { name in
      try project.write(
        "\(name).c", "#include <stdio.h>\n#include \"plain.h\"\nvoid \(name)(struct counter *c) { c->value++; }\n")
    }
    let arguments = Self.arguments
    let prefixHeaders = PrefixHeaders(files: files, arguments: arguments)
    let frontEnd = CFrontEnd(knowledge: try Knowledge(), prefixHeaders: prefixHeaders)
    for file in files {
      let facts = try frontEnd.facts(for: file, arguments: arguments(file))
      #expect(facts.parseProblem == nil)
      #expect(facts.functions.count == 1)
      #expect(facts.dependencies.contains { $0.hasSuffix("/plain.h") })
      #expect(facts.dependencies.contains { $0.hasSuffix("/stdio.h") })
    }
    // `<stdio.h>` alone.
    #expect(prefixHeaders.builtCount == 1)
  }

  /// A tree checked without configure: the shared first header is missing, so no prefix is
  /// made, and every file is parsed whole, with its parse problem.
  @Test func aMissingHeaderMakesNoPrefix() throws {
    let project = try Project()
    defer { project.remove() }
    try project.write("shared.h", "#pragma once\nint shared(void);\n")
    let files = try ["p", "q", "r"].map { name in
      try project.write(
        "\(name).c", "#include \"config.h\"\n#include \"shared.h\"\nint \(name)(void) { return shared(); }\n")
    }
    let arguments = Self.arguments
    let knowledge = try Knowledge()
    let prefixHeaders = PrefixHeaders(files: files, arguments: arguments)
    let onPrefix = CFrontEnd(knowledge: knowledge, prefixHeaders: prefixHeaders)
    let whole = CFrontEnd(knowledge: knowledge)
    for file in files {
      let facts = try onPrefix.facts(for: file, arguments: arguments(file))
      #expect(facts.parseProblem?.missingHeaders == ["config.h"])
      #expect(
        FactsCoding.encode([facts]) == FactsCoding.encode([try whole.facts(for: file, arguments: arguments(file))]))
    }
    #expect(prefixHeaders.builtCount == 0)
  }
}
