import SwiftParser
import SwiftSyntax
import Testing

@testable import ForkGuardSwift

/// SourceText stands in for swift-syntax's SourceLocationConverter and `trimmedDescription`:
/// it must give the same lines, columns and spellings.
@Suite("Source text")
struct SourceTextTests {
  static let sources = [
    "let a = 1\nlet b = 2\n",
    "let a = 1\r\nlet b = 2\r\n\r\nlet c = a + b * 3\r",
    "let a = 1\rlet b = 2\n\rfunc f() {\n  g()\n}",
    "let s = \"\"\"\n  one\r\n  two\n  \"\"\"\nlet t = \"é\\u{1F600}😀\" + s // ends without a newline",
    "/* a\nblock\r\ncomment */ x = y ?? z as Int\n#sourceLocation(file: \"other.swift\", line: 100)\nlet q = try f() + g()\n#sourceLocation()\n",
    "let x = (1 + ]\nfunc broken( {\n",
    "",
  ]

  @Test func linesAndColumnsAreTheConverters() {
    for source in Self.sources {
      let tree = Parser.parse(source: source)
      let converter = SourceLocationConverter(fileName: "f.swift", tree: tree)
      let text = SourceText(source)
      for token in tree.tokens(viewMode: .all) {
        for position in [
          token.position, token.positionAfterSkippingLeadingTrivia, token.endPositionBeforeTrailingTrivia,
        ] {
          let expected = converter.location(for: position)
          let found = text.lineAndColumn(position.utf8Offset)
          #expect(
            found.line == expected.line && found.column == expected.column, "\(source.debugDescription) @\(position)")
        }
      }
      for offset in [-1, 0, source.utf8.count, source.utf8.count + 5] {
        let expected = converter.location(for: AbsolutePosition(utf8Offset: offset))
        let found = text.lineAndColumn(offset)
        #expect(found.line == expected.line && found.column == expected.column)
      }
    }
  }

  @Test func textIsTheTrimmedDescription() {
    for source in Self.sources {
      let tree = Parser.parse(source: source)
      let text = SourceText(source)
      for node in [Syntax(tree)] + tree.tokens(viewMode: .sourceAccurate).compactMap(\.parent) {
        #expect(text.text(of: node) == node.trimmedDescription)
      }
    }
  }
}
