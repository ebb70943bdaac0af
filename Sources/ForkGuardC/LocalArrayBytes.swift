import CClang
import ForkGuardCore

/// Constant bytes a function writes into a local array through a cursor pointer, in
/// straight-line code: telnet's `cp = tmp; *cp++ = IAC; *cp++ = SB; *cp++ = TELOPT_NAWS;`
/// then `printsub('>', tmp + 2, …)` gives printsub a buffer whose first byte is known, and
/// its `switch (pointer[0])` is decided. A write whose position is not known (a `cp++`
/// inside a branch or loop) ends what is known of the offsets after it; a store into the
/// array by index updates that byte, by an unknown index forgets the array. Callees are
/// taken not to write into the caller's buffer.
final class LocalArrayBytes {
  private var cursors: [String: (array: String, offset: Int?)] = [:]
  private var bytes: [String: [Int: Int]] = [:]
  /// > 0 inside a branch, loop or switch body.
  private(set) var depth = 0

  func nested<T>(_ body: () -> T) -> T {
    depth += 1
    defer { depth -= 1 }
    return body()
  }

  /// `unsigned char *cp = tmp;`
  func initialise(_ pointer: String, with value: Cursor) {
    guard let array = Self.localArray(value) else { return }
    cursors[pointer] = (array, depth == 0 ? 0 : nil)
    bytes[array] = [:]
  }

  /// An assignment: `cp = tmp`, `*cp++ = V`, or `tmp[K] = V`.
  func assign(target: Cursor, value: Cursor) {
    if target.kind == CXCursor_DeclRefExpr, let pointer = target.referenced?.usr, Self.localArray(value) != nil {
      initialise(pointer, with: value)
      return
    }
    if let pointer = Self.postIncrementedDereference(target), let cursor = cursors[pointer] {
      if let offset = cursor.offset, depth == 0 {
        bytes[cursor.array, default: [:]][offset] = value.integerValue
        cursors[pointer] = (cursor.array, offset + 1)
      } else {
        cursors[pointer] = (cursor.array, nil)
      }
      return
    }
    if target.kind == CXCursor_ArraySubscriptExpr {
      let parts = target.children.filter(\.isExpression)
      guard parts.count == 2, let array = Self.localArray(parts[0]) else { return }
      if let index = parts[1].integerValue, depth == 0 {
        bytes[array, default: [:]][index] = value.integerValue
      } else {
        bytes[array] = nil
      }
    }
  }

  /// A `cp++` (or `cp--`) outside an assignment's target moves the cursor.
  func step(_ operand: Cursor, by delta: Int) {
    let expression = operand.strippingParenthesesAndCasts
    guard expression.kind == CXCursor_DeclRefExpr, let pointer = expression.referenced?.usr,
      let cursor = cursors[pointer]
    else { return }
    cursors[pointer] = (cursor.array, depth == 0 ? cursor.offset.map { $0 + delta } : nil)
  }

  /// What a call argument `tmp`, `tmp + K` or `&tmp[K]` is known to hold, by offset from it.
  func elements(of argument: Cursor) -> [Int: Int]? {
    let expression = argument.strippingParenthesesAndCasts
    var array: String?
    var start = 0
    if let local = Self.localArray(expression) {
      array = local
    } else if expression.kind == CXCursor_BinaryOperator, expression.operatorSpelling == "+" {
      let parts = expression.children.filter(\.isExpression)
      if parts.count == 2, let local = Self.localArray(parts[0]), let offset = parts[1].integerValue {
        (array, start) = (local, offset)
      }
    } else if expression.kind == CXCursor_UnaryOperator, expression.operatorSpelling == "&",
      let subscriptExpression = expression.children.first(where: \.isExpression)?.strippingParenthesesAndCasts,
      subscriptExpression.kind == CXCursor_ArraySubscriptExpr
    {
      let parts = subscriptExpression.children.filter(\.isExpression)
      if parts.count == 2, let local = Self.localArray(parts[0]), let offset = parts[1].integerValue {
        (array, start) = (local, offset)
      }
    }
    guard let array, let known = bytes[array] else { return nil }
    var relative: [Int: Int] = [:]
    for (offset, value) in known where offset >= start { relative[offset - start] = value }
    return relative.isEmpty ? nil : relative
  }

  /// A local array variable (`unsigned char tmp[16]`) the expression names.
  private static func localArray(_ cursor: Cursor) -> String? {
    let expression = cursor.strippingParenthesesAndCasts
    guard expression.kind == CXCursor_DeclRefExpr, let declaration = expression.referenced,
      declaration.kind == CXCursor_VarDecl, declaration.semanticParent.kind != CXCursor_TranslationUnit,
      declaration.storageClass != CX_SC_Static,
      clang_getCanonicalType(declaration.type).kind == CXType_ConstantArray
    else { return nil }
    return declaration.usr
  }

  /// `*cp++`: the pointer's symbol.
  private static func postIncrementedDereference(_ cursor: Cursor) -> String? {
    guard cursor.kind == CXCursor_UnaryOperator, cursor.operatorSpelling == "*",
      let inner = cursor.children.first(where: \.isExpression)?.strippingParenthesesAndCasts,
      inner.kind == CXCursor_UnaryOperator, inner.operatorSpelling == "++",
      let operand = inner.children.first(where: \.isExpression)?.strippingParenthesesAndCasts,
      operand.kind == CXCursor_DeclRefExpr
    else { return nil }
    return operand.referenced?.usr
  }
}
