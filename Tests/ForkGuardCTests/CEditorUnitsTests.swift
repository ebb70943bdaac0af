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
    ]
    for (number, edit) in edits.enumerated() {
      let kept = units.facts(for: path, arguments: arguments, unsaved: [path: edit.text], knowledge: knowledge)
      #expect((kept != nil) == edit.kept, "edit \(number)")
      let expected = try fresh.facts(for: path, arguments: arguments, unsaved: [path: edit.text])
      if let kept { #expect(kept == expected, "edit \(number)") }
    }
  }

  @Test func thePreambleIsTheLeadingDirectivesAndComments() {
    let text = "// c\n#include <a.h>\n/* x */ #define F(a) \\\n  a\n\nint main(void) { return 0; }\n"
    #expect(
      String(decoding: CEditorUnits.preamble(of: text), as: UTF8.self)
        == "// c\n#include <a.h>\n/* x */ #define F(a) \\\n  a\n\n")
  }
}
