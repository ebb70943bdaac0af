import ForkGuardC
import ForkGuardCore
import ForkGuardTestSupport
import Foundation
import Testing

/// The language server's kept units must say exactly what a fresh parse of the same text
/// says, before and after edits, whether an edit leaves the preamble alone or not.
@Suite("Editor units")
struct CEditorUnitsTests {
  @Test func keptUnitsGiveTheFactsOfAFreshParse() throws {
    let path = Scratch.root.appendingPathComponent("fg-editor-\(UUID().uuidString).c").path
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let original = try String(contentsOf: root.appendingPathComponent("examples/demo/demo.c"), encoding: .utf8)
    try original.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let knowledge = try Knowledge()
    let arguments = CFrontEnd.defaultArguments(for: path, includeDirectories: [])
    let units = CEditorUnits()
    let fresh = CFrontEnd(knowledge: knowledge)

    // A function's body edited (the preamble is reused); the top edited twice (the unit
    // steps aside: nil, parse it plainly) and then left alone (a new unit); the body again.
    let body = try #require(original.range(of: "{\n"))
    let edited = original.replacingCharacters(in: body, with: "{\n  int edited = 1; (void)edited;\n")
    let edits: [(text: String, kept: Bool)] = [
      (original, true), (edited, true), ("/* a line at the top */\n" + original, false),
      ("/* two lines */\n/* at the top */\n" + original, false), ("/* two lines */\n/* at the top */\n" + edited, true),
      ("/* two lines */\n/* at the top */\n" + original, true),
      // A header included below the preamble: parsed plainly (see the next test).
      ("/* two lines */\n/* at the top */\n" + original + "\n#include <pthread.h>\nvoid late(void) {}\n", false),
    ]
    for (number, edit) in edits.enumerated() {
      let kept = units.facts(for: path, arguments: arguments, unsaved: [path: edit.text], knowledge: knowledge)
      #expect((kept != nil) == edit.kept, "edit \(number)")
      let expected = try fresh.facts(for: path, arguments: arguments, unsaved: [path: edit.text])
      if let kept { #expect(kept == expected, "edit \(number)") }
    }
  }

  /// The same text asked for twice (a check's failed replay, then its whole run) is not
  /// parsed twice; a header changed on disk in between is.
  @Test func theSameTextTwiceIsAnsweredFromTheLastParseUntilAHeaderChanges() throws {
    let folder = Scratch.root.appendingPathComponent("fg-editor-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("main.c").path
    let header = folder.appendingPathComponent("helpers.h").path
    let text = "#include \"helpers.h\"\nint main(void) { if (fork() == 0) HELP(); return 0; }\n"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    try "#include <unistd.h>\n#define HELP() _exit(0)\n".write(toFile: header, atomically: true, encoding: .utf8)
    // Older than the check: a header written just now is never taken for unchanged.
    let past = Date(timeIntervalSinceNow: -3600)
    try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: header)
    let knowledge = try Knowledge()
    let arguments = CFrontEnd.defaultArguments(for: path, includeDirectories: [])
    let units = CEditorUnits()
    let fresh = CFrontEnd(knowledge: knowledge)
    let unsaved = [path: text]
    let first = try #require(units.facts(for: path, arguments: arguments, unsaved: unsaved, knowledge: knowledge))
    let again = try #require(units.facts(for: path, arguments: arguments, unsaved: unsaved, knowledge: knowledge))
    #expect(again == first)
    #expect(units.parseCount == 1)
    #expect(first.functions.first?.calls.map(\.callee) == ["fork", "_exit"])
    try "#include <stdio.h>\n#include <unistd.h>\n#define HELP() puts(\"x\")\n".write(
      toFile: header, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.modificationDate: past.addingTimeInterval(60)], ofItemAtPath: header)
    let changed = try #require(units.facts(for: path, arguments: arguments, unsaved: unsaved, knowledge: knowledge))
    #expect(changed.functions.first?.calls.map(\.callee) == ["fork", "puts"])
    #expect(units.parseCount == 2)
    #expect(changed == (try fresh.facts(for: path, arguments: arguments, unsaved: unsaved)))
  }

  /// A re-parse on the same preamble lists the headers the last parse listed, until a
  /// header changes on disk: then the ones it now includes are dependencies too.
  @Test func aReparseListsTheHeadersAChangedHeaderNowIncludes() throws {
    let folder = Scratch.root.appendingPathComponent("fg-editor-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("main.c").path
    let header = folder.appendingPathComponent("helpers.h").path
    let extra = folder.appendingPathComponent("extra.h").path
    let text = "#include \"helpers.h\"\nint main(void) {\n  return 0;\n}\n"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    try "#include <unistd.h>\n".write(toFile: header, atomically: true, encoding: .utf8)
    try "#define EXTRA 1\n".write(toFile: extra, atomically: true, encoding: .utf8)
    let past = Date(timeIntervalSinceNow: -3600)
    for file in [header, extra] { try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: file) }
    let knowledge = try Knowledge()
    let arguments = CFrontEnd.defaultArguments(for: path, includeDirectories: [])
    let units = CEditorUnits()
    let fresh = CFrontEnd(knowledge: knowledge)
    func edit(_ line: String) throws -> (kept: FileFacts, fresh: FileFacts) {
      let edited = text.replacingOccurrences(of: "  return 0;", with: line + "\n  return 0;")
      let kept = try #require(
        units.facts(for: path, arguments: arguments, unsaved: [path: edited], knowledge: knowledge))
      return (kept, try fresh.facts(for: path, arguments: arguments, unsaved: [path: edited]))
    }
    #expect(units.facts(for: path, arguments: arguments, unsaved: [path: text], knowledge: knowledge) != nil)
    let before = try edit("  (void)1;")
    #expect(before.kept.dependencies == before.fresh.dependencies)
    #expect(!before.kept.dependencies.contains(extra))
    try "#include <unistd.h>\n#include \"extra.h\"\n".write(toFile: header, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.modificationDate: past.addingTimeInterval(60)], ofItemAtPath: header)
    let after = try edit("  (void)2;")
    #expect(after.kept.dependencies.contains(extra))
    #expect(after.kept.dependencies == after.fresh.dependencies)
    #expect(units.parseCount == 3)
  }

  /// A header first included below the preamble, in the text a unit is made from.
  @Test func aHeaderIncludedBelowThePreambleIsADependency() throws {
    let path = Scratch.root.appendingPathComponent("fg-editor-\(UUID().uuidString).c").path
    let text = "#include <unistd.h>\nvoid early(void) {}\n#include <pthread.h>\nvoid late(void) {}\n"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let knowledge = try Knowledge()
    let arguments = CFrontEnd.defaultArguments(for: path, includeDirectories: [])
    let units = CEditorUnits()
    let expected = try CFrontEnd(knowledge: knowledge).facts(for: path, arguments: arguments, unsaved: [path: text])
    #expect(expected.dependencies.contains { $0.hasSuffix("/pthread.h") })
    // Such a text is parsed plainly: libclang would leave pthread.h out of a kept unit's list.
    for edit in [text, text + "\n"] {
      #expect(units.facts(for: path, arguments: arguments, unsaved: [path: edit], knowledge: knowledge) == nil)
    }
    #expect(CEditorUnits.includesBelowPreamble(text, preambleLength: CEditorUnits.preamble(of: text).count))
    let topOnly = "#include <unistd.h>\n  #  include <pthread.h>\nint x; /* #include <no.h> */\n"
    #expect(!CEditorUnits.includesBelowPreamble(topOnly, preambleLength: CEditorUnits.preamble(of: topOnly).count))
    // Back to includes at the top only: a kept unit again, with the same list as a plain parse.
    let plain = "#include <unistd.h>\n#include <pthread.h>\nvoid early(void) {}\nvoid late(void) {}\n"
    let plainExpected = try CFrontEnd(knowledge: knowledge).facts(
      for: path, arguments: arguments, unsaved: [path: plain])
    let kept = try #require(units.facts(for: path, arguments: arguments, unsaved: [path: plain], knowledge: knowledge))
    #expect(kept.dependencies == plainExpected.dependencies)
  }

  @Test func thePreambleIsTheLeadingDirectivesAndComments() {
    let text = "// c\n#include <a.h>\n/* x */ #define F(a) \\\n  a\n\nint main(void) { return 0; }\n"
    #expect(
      String(decoding: CEditorUnits.preamble(of: text), as: UTF8.self)
        == "// c\n#include <a.h>\n/* x */ #define F(a) \\\n  a\n\n")
  }
}
