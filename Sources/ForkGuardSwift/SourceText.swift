import SwiftOperators
import SwiftSyntax

/// One Swift file's UTF-8 text, where its lines end, and the expressions folded so far:
/// what the extractor asks for locations and spellings.
///
/// swift-syntax's `SourceLocationConverter` finds the lines by walking every token and trivia
/// piece of the tree; one pass over the bytes gives the same table (line breaks are `\n`,
/// `\r` and `\r\n`, as in the Swift book's grammar and the converter) for a fraction of the
/// cost. Lines and columns are physical, 1-based, columns in UTF-8 bytes, as the converter's
/// `line` and `column` (`#sourceLocation` does not change them).
final class SourceText {
  let bytes: [UInt8]
  /// The offset just after each line break, in order.
  private let lineEnds: [Int]
  /// Trees made by folding a sequence expression, by their root, with the file offset
  /// their position 0 stands for (folding moves nodes, never text). The tree is kept, so
  /// its root stays alive and its identifier unique.
  private var foldedTrees: [SyntaxIdentifier: (offset: Int, tree: Syntax)] = [:]

  init(_ source: String) {
    bytes = Array(source.utf8)
    var ends: [Int] = []
    bytes.withUnsafeBufferPointer { bytes in
      let count = bytes.count
      var index = 0
      while index < count {
        let byte = bytes[index]
        index += 1
        if byte == UInt8(ascii: "\n") {
          ends.append(index)
        } else if byte == UInt8(ascii: "\r") {
          if index < count && bytes[index] == UInt8(ascii: "\n") { index += 1 }
          ends.append(index)
        }
      }
    }
    lineEnds = ends
  }

  /// Line and column of a file offset, clamped to the file.
  func lineAndColumn(_ offset: Int) -> (line: Int, column: Int) {
    let position = max(0, min(offset, bytes.count))
    // The first line end after the position (SourceLineTable's upperBoundIndex).
    var low = 0
    var high = lineEnds.count
    while high > low {
      let middle = (high - low) / 2 + low
      if position < lineEnds[middle] { high = middle } else { low = middle + 1 }
    }
    return (low + 1, (low == 0 ? position : position - lineEnds[low - 1]) + 1)
  }

  /// The file offset of a position in the tree that `node` belongs to: the file's tree, or
  /// an expression folded by `folded(_:)`. A tree made any other way (a syntax collection's
  /// `filter` builds one) has offsets of its own that this cannot tell: keep to `Array`s.
  func offset(_ position: AbsolutePosition, in node: some SyntaxProtocol) -> Int {
    guard !foldedTrees.isEmpty else { return position.utf8Offset }
    let root = node.root
    if let folded = foldedTrees[root.id] { return folded.offset + position.utf8Offset }
    assert(root.is(SourceFileSyntax.self), "\(root.kind) is neither the file's tree nor a folded expression's")
    return position.utf8Offset
  }

  /// Whether the text of a node of the file's tree (its trivia too) has a `{`. Declarations
  /// and closures all have braces, or sit in a list that has: a statement without one holds
  /// no declaration.
  func hasBrace(_ node: some SyntaxProtocol) -> Bool {
    let start = max(0, node.position.utf8Offset)
    let end = min(bytes.count, node.endPosition.utf8Offset)
    guard start < end else { return false }
    return bytes.withUnsafeBufferPointer { bytes in
      var index = start
      while index < end {
        if bytes[index] == UInt8(ascii: "{") { return true }
        index += 1
      }
      return false
    }
  }

  /// `node.trimmedDescription`, read from the file's bytes: `trimmed` copies the node into
  /// a new tree to drop its outer trivia. A node with errors (missing tokens) keeps
  /// swift-syntax's spelling.
  func text(of node: some SyntaxProtocol) -> String {
    if node.hasError { return node.trimmedDescription }
    let start = offset(node.positionAfterSkippingLeadingTrivia, in: node)
    let end = offset(node.endPositionBeforeTrailingTrivia, in: node)
    guard 0 <= start, start <= end, end <= bytes.count else { return node.trimmedDescription }
    return String(decoding: bytes[start..<end], as: UTF8.self)
  }

  /// The expression with its operators folded by the standard operator table (`a + b * c`
  /// as `a + (b * c)`, `x = y`, `f as T`), where the lowering reads one. Folding the whole
  /// tree up front (`foldAll`) rebuilt every node above every sequence expression in the
  /// file, most of which the lowering never reads.
  func folded(_ expression: ExprSyntax) -> ExprSyntax {
    guard let sequence = expression.as(SequenceExprSyntax.self) else { return expression }
    let result = OperatorTable.standardOperators.foldSingle(sequence) { _ in }
    if result.parent == nil {
      foldedTrees[result.id] = (offset(sequence.position, in: sequence), Syntax(result))
    }
    return result
  }
}
