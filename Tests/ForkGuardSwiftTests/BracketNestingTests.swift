import ForkGuardCore
import ForkGuardSwift
import Foundation
import Testing

/// swift-syntax's parser doubles its time with each level of `[` (the swift-front-end fuzz
/// harness found `let held = [[[[…` hanging it): such files are refused at once, and nesting
/// in strings and comments does not count.
@Suite("Bracket nesting")
struct BracketNestingTests {
  let frontEnd = SwiftFrontEnd(knowledge: try! Knowledge())

  @Test func deepNestingIsRefusedQuickly() throws {
    for source in [
      "let x = " + String(repeating: "[", count: 30) + "\n",
      "let x = " + String(repeating: "[", count: 25) + "1" + String(repeating: "]", count: 25) + "\n",
      "let x: " + String(repeating: "[", count: 25) + "Int" + String(repeating: "]", count: 25) + " = []\n",
    ] {
      let started = Date()
      #expect(throws: (any Error).self) { try frontEnd.facts(for: "/deep.swift", text: source) }
      #expect(Date().timeIntervalSince(started) < 5)
    }
  }

  @Test func nestingInStringsAndCommentsDoesNotCount() throws {
    let brackets = String(repeating: "[", count: 40)
    let source = """
      // \(brackets)
      /* \(brackets) /* nested */ \(brackets) */
      let text = "\(brackets)"
      let block = \"\"\"
        \(brackets)
        \"\"\"
      let grid: [[[Int]]] = [[[1]]]
      """
    let facts = try frontEnd.facts(for: "/fine.swift", text: source)
    #expect(facts.parseProblem == nil)
  }
}
