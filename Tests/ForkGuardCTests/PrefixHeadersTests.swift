import ForkGuardCore
import ForkGuardTestSupport
import Foundation
import Testing

@testable import ForkGuardC

@Suite("Precompiled prefix headers")
struct PrefixHeadersTests {
  func leading(_ text: String) -> String? {
    PrefixHeaders.leadingQuotedInclude(in: Data(text.utf8))
  }

  @Test func onlyAFirstQuotedIncludeWithNothingBeforeItIsAPrefix() {
    #expect(leading("#include \"cache.h\"\nint x;\n") == "cache.h")
    #expect(leading("/* licence\n * text */\n// more\n\n  #  include \"a/b.h\" // why\nint x;") == "a/b.h")
    #expect(leading("#include \"x.h\" /* c */\n") == "x.h")
    // A macro defined first can change what the header declares.
    #expect(leading("#define USE_THE_INDEX_VARIABLE\n#include \"builtin.h\"\n") == nil)
    #expect(leading("#include <stdio.h>\n") == nil)
    #expect(leading("#include \"x.h\" int y;\n") == nil)
    #expect(leading("#if 1\n#include \"x.h\"\n#endif\n") == nil)
    #expect(leading("#include MACRO\n") == nil)
    #expect(leading("") == nil)
    #expect(leading("/* never closed") == nil)
  }

  @Test func otherLanguagesAndAnotherPCHAreLeftAlone() {
    #expect(PrefixHeaders.acceptsPrefix(["-x", "c", "-std=gnu17"]))
    #expect(!PrefixHeaders.acceptsPrefix(["-x", "c++"]))
    #expect(!PrefixHeaders.acceptsPrefix(["-include-pch", "a.pch"]))
  }

  /// A project whose files open with the same guarded header: parsed on one precompiled
  /// header, every file's facts are byte for byte those of a whole parse.
  @Test func factsOnAPrefixAreThoseOfAWholeParse() throws {
    let root = Scratch.root.appendingPathComponent("prefix-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root.appendingPathComponent("sub"), withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: root) }
    func write(_ name: String, _ text: String) throws -> String {
      let path = root.appendingPathComponent(name).path
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      return path
    }
    _ = try write(
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
    _ = try write(
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
      try write("d.c", "#define EXTRA 1\n#include \"common.h\"\nvoid d(void) { spawn(); }\n"),
    ]
    let knowledge = try Knowledge()
    func encoded(_ prefixHeaders: PrefixHeaders?) throws -> [Data] {
      let frontEnd = CFrontEnd(knowledge: knowledge, prefixHeaders: prefixHeaders)
      return try files.map { file in
        FactsCoding.encode([
          try frontEnd.facts(for: file, arguments: CFrontEnd.defaultArguments(for: file, includeDirectories: []))
        ])
      }
    }
    let prefixHeaders = PrefixHeaders()
    let onPrefix = try encoded(prefixHeaders)
    // a.c and b.c share one (same folder, same flags); sub/c.c's flags name its own folder,
    // and d.c defines a macro first.
    #expect(prefixHeaders.builtCount == 1)
    #expect(onPrefix == (try encoded(nil)))
  }

  /// A header without a guard would be read twice (the PCH, then the file's own include).
  @Test func anUnguardedHeaderIsNotPrecompiled() throws {
    let root = Scratch.root.appendingPathComponent("prefix-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: root) }
    try "int counter;\n".write(to: root.appendingPathComponent("plain.h"), atomically: true, encoding: .utf8)
    let files = try ["x.c", "y.c", "z.c"].map { name in
      let path = root.appendingPathComponent(name).path
      try "#include \"plain.h\"\nvoid \(name.dropLast(2))(void) { counter++; }\n".write(
        toFile: path, atomically: true, encoding: .utf8)
      return path
    }
    let prefixHeaders = PrefixHeaders()
    let frontEnd = CFrontEnd(knowledge: try Knowledge(), prefixHeaders: prefixHeaders)
    for file in files {
      let facts = try frontEnd.facts(
        for: file, arguments: CFrontEnd.defaultArguments(for: file, includeDirectories: []))
      #expect(facts.parseProblem == nil)
      #expect(facts.functions.count == 1)
    }
    #expect(prefixHeaders.builtCount == 0)
  }
}
