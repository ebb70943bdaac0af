import ForkGuardC
import ForkGuardCore
import Foundation
import Testing

/// The language server's kept units must say exactly what a fresh parse of the same text
/// says, before and after edits, whether an edit leaves the preamble alone or not.
@Suite("Editor units")
struct CEditorUnitsTests {
  @Test func keptUnitsGiveTheFactsOfAFreshParse() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("fg-editor-\(UUID().uuidString).c").path
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

  /// A header first included below the preamble, in the text a unit is made from.
  @Test func aHeaderIncludedBelowThePreambleIsADependency() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("fg-editor-\(UUID().uuidString).c").path
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
