import SwiftOperators
import SwiftParser
import SwiftSyntax
import Testing

@testable import ForkGuardSwift

/// SourceText stands in for swift-syntax's SourceLocationConverter, `trimmedDescription` and
/// `foldAll`: it must give the same lines, columns and spellings.
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
          let found = text.lineAndColumn(text.offset(position, in: token))
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

  /// A sequence folded on its own is a tree of its own: its nodes still tell their place in
  /// the file, and fold as `foldAll` folds them.
  @Test func foldedExpressionsKeepTheirPlaces() {
    let source = Self.sources[4] + "func f() {\n  if (a == 1 && b) || !c { x = [y + 1, z * 2] }\n}\n"
    let tree = Parser.parse(source: source)
    let all = OperatorTable.standardOperators.foldAll(tree) { _ in }
    let text = SourceText(source)
    final class Sequences: SyntaxVisitor {
      var found: [SequenceExprSyntax] = []
      override func visit(_ node: SequenceExprSyntax) -> SyntaxVisitorContinueKind {
        found.append(node)
        return .visitChildren
      }
    }
    let sequences = Sequences(viewMode: .sourceAccurate)
    sequences.walk(tree)
    #expect(sequences.found.count >= 4)
    for sequence in sequences.found {
      let folded = text.folded(ExprSyntax(sequence))
      #expect(!folded.is(SequenceExprSyntax.self))
      let start = text.offset(folded.position, in: folded)
      #expect(start == sequence.position.utf8Offset)
      // The same structure as the whole tree's folding, at the same offsets.
      // The outermost expression of foldAll's tree that spans the sequence exactly.
      var node: Syntax? = nil
      var next = all.tokens(viewMode: .sourceAccurate).first { $0.position == sequence.position }.map(Syntax.init)
      while let current = next, current.endPosition <= sequence.endPosition {
        if current.position == sequence.position, current.endPosition == sequence.endPosition,
          current.is(ExprSyntax.self)
        {
          node = current
        }
        next = current.parent
      }
      #expect(node?.kind == folded.kind)
      #expect(node?.description == folded.description)
      for (token, original) in zip(folded.tokens(viewMode: .all), sequence.tokens(viewMode: .all)) {
        #expect(text.offset(token.position, in: token) == original.position.utf8Offset)
        #expect(text.text(of: token) == original.trimmedDescription)
      }
    }
  }

  @Test func nodesOfAFoldedTreeFindTheirRoot() {
    let source = "func f() {\n  // note\n  a.b = .init(h: { s in\n    print(s)\n  })\n}\n"
    let tree = Parser.parse(source: source)
    let text = SourceText(source)
    let sequence = tree.tokens(viewMode: .sourceAccurate).first { $0.text == "a" }!.ancestorOrSelf {
      $0.as(SequenceExprSyntax.self)
    }!
    let folded = text.folded(ExprSyntax(sequence))
    let infix = folded.as(InfixOperatorExprSyntax.self)!
    let closure = infix.rightOperand.as(FunctionCallExprSyntax.self)!.arguments.first!.expression
    print("root", folded.id, folded.parent == nil, closure.root.id, Syntax(closure).root.id)
    #expect(text.offset(closure.positionAfterSkippingLeadingTrivia, in: closure) == 38)
  }
}
