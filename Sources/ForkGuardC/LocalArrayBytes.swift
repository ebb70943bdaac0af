import CClang
import ForkGuardCore

/// Constant bytes a function writes into a local array through a cursor pointer: telnet's
/// `cp = tmp; *cp++ = IAC; *cp++ = SB; *cp++ = TELOPT_NAWS;` then `printsub('>', tmp + 2, …)`
/// gives printsub a buffer whose first byte is known, and its `switch (pointer[0])` is
/// decided.
///
/// The cursor's offset is kept as a range: a step inside a branch may or may not run, so it
/// widens the range by one (each statement outside a loop runs at most once); a step inside a
/// loop, or anywhere after a label a `goto` can reach, loses it. Bytes are known by offset
/// only while the offset is exact, and by distance back from the cursor (the last bytes
/// written) whatever the offset: `*cp++ = IAC; *cp++ = SE;` after `PUTSHORT`'s doubled IACs
/// still ends in IAC SE, and `cp - tmp - 2` is a length in a known range. A store into the
/// array by index updates that byte, by an unknown index forgets the array. Callees are
/// taken not to write into the caller's buffer.
final class LocalArrayBytes {
  private struct Position {
    var array: String
    /// nil when unknown.
    var offset: ClosedRange<Int>?
    /// The bytes just before the cursor: `lastBytes[1]` is `cp[-1]`.
    var lastBytes: [Int: Int] = [:]
    /// The lowest offset the cursor may point at now, where a store through it at an
    /// unknown offset may land at the earliest; nil when it may be anywhere.
    var floor: Int? = 0
  }
  private var cursors: [String: Position] = [:]
  private var bytes: [String: [Int: Int]] = [:]
  /// > 0 inside a branch, loop or switch body.
  private(set) var depth = 0
  /// > 0 inside a loop body (or a loop's condition or increment).
  private var loopDepth = 0
  /// A label has been lowered: from here on, code may run again through a `goto`.
  private var afterLabel = false

  func nested<T>(_ body: () -> T) -> T {
    depth += 1
    defer { depth -= 1 }
    return body()
  }

  func nestedLoop<T>(_ body: () -> T) -> T {
    loopDepth += 1
    defer { loopDepth -= 1 }
    return nested(body)
  }

  /// A `goto` target: what follows may run more than once.
  func label() {
    afterLabel = true
    for (pointer, position) in cursors {
      cursors[pointer] = Position(
        array: position.array, offset: nil, floor: position.offset?.lowerBound ?? position.floor)
    }
  }

  /// The cursor is set to something not followed (`cp = other`, `cp += n`, `&cp` passed on).
  func forget(_ operand: Cursor) {
    let expression = operand.strippingParenthesesAndCasts
    guard expression.kind == CXCursor_DeclRefExpr, let pointer = expression.referenced?.usr,
      let position = cursors[pointer]
    else { return }
    cursors[pointer] = nil
    // Stores through it from here on are not seen: nothing is known of its array after it.
    bytes[position.array] = nil
  }

  var isFollowingCursors: Bool { !cursors.isEmpty }

  static let largestStep = 1 << 32

  /// An operation the lowering cannot read (an operator in a macro's body, telnet's
  /// `PUTSHORT`) on an expression that names cursors: each may have moved on by any amount,
  /// and stored anywhere from its lowest offset on. (A macro that steps a cursor back is
  /// taken not to exist: the bytes before it stay known.)
  func unknownOperation(on expression: Cursor) {
    for pointer in cursorsNamed(in: expression) {
      guard let position = cursors[pointer] else { continue }
      let floor = position.offset?.lowerBound ?? position.floor
      bytes[position.array] = bytes[position.array]?.filter { $0.key < (floor ?? .min) }
      cursors[pointer] = Position(array: position.array, offset: nil, floor: floor)
    }
  }

  /// The cursors an expression names anywhere in it.
  private func cursorsNamed(in expression: Cursor) -> Set<String> {
    var named = Set<String>()
    func visit(_ cursor: Cursor) {
      if cursor.kind == CXCursor_DeclRefExpr, let symbol = cursor.referenced?.usr, cursors[symbol] != nil {
        named.insert(symbol)
      }
      for child in cursor.children { visit(child) }
    }
    visit(expression)
    return named
  }

  /// `cp += K`, `cp -= K`.
  func step(_ operand: Cursor, byConstant value: Cursor, sign: Int) {
    // A step the size of no real buffer is not followed (and cannot overflow the offsets).
    guard let delta = value.integerValue, delta.magnitude < Self.largestStep.magnitude else { return forget(operand) }
    step(operand, by: sign * delta)
  }

  /// `unsigned char *cp = tmp;`
  func initialise(_ pointer: String, with value: Cursor) {
    guard let array = Self.localArray(value) else { return }
    cursors[pointer] = Position(array: array, offset: depth == 0 && !afterLabel ? 0...0 : nil)
    bytes[array] = [:]
  }

  /// An assignment: `cp = tmp`, `*cp++ = V`, or `tmp[K] = V`.
  func assign(target: Cursor, value: Cursor) {
    if target.kind == CXCursor_DeclRefExpr, let pointer = target.referenced?.usr {
      if Self.localArray(value) != nil {
        initialise(pointer, with: value)
      } else if cursors[pointer] != nil {
        forget(target)
      }
      return
    }
    if let pointer = Self.postIncrementedDereference(target), var position = cursors[pointer] {
      // The byte lands somewhere in the offset's range, or anywhere above the floor.
      if let offset = position.offset {
        bytes[position.array]?.removeValue(forKey: offset.lowerBound)
        if offset.lowerBound != offset.upperBound {
          bytes[position.array] = bytes[position.array]?.filter { !offset.contains($0.key) }
        }
      } else {
        let floor = position.floor ?? Int.min
        bytes[position.array] = bytes[position.array]?.filter { $0.key < floor }
      }
      if depth == 0, let offset = position.offset, offset.lowerBound == offset.upperBound {
        bytes[position.array, default: [:]][offset.lowerBound] = value.integerValue
      }
      if depth == 0 {
        var shifted: [Int: Int] = [:]
        for (back, byte) in position.lastBytes { shifted[back + 1] = byte }
        shifted[1] = value.integerValue
        position.lastBytes = shifted
      } else {
        position.lastBytes = [:]
      }
      move(&position, by: 1)
      cursors[pointer] = position
      return
    }
    // `*cp = V`, `cp[K] = V`: a store through a cursor, where the cursor's offset says, or
    // anywhere from it on.
    if let pointer = storeThroughCursor(target), let position = cursors[pointer] {
      let floor = position.offset?.lowerBound ?? position.floor
      bytes[position.array] = bytes[position.array]?.filter { $0.key < (floor ?? .min) }
      cursors[pointer]?.lastBytes = [:]
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
      // Where this byte lies relative to a cursor is not followed.
      for (pointer, position) in cursors where position.array == array { cursors[pointer]?.lastBytes = [:] }
    }
  }

  /// A `cp++` (or `cp--`) outside an assignment's target moves the cursor.
  func step(_ operand: Cursor, by delta: Int) {
    let expression = operand.strippingParenthesesAndCasts
    guard expression.kind == CXCursor_DeclRefExpr, let pointer = expression.referenced?.usr,
      var position = cursors[pointer]
    else { return }
    if depth == 0 {
      var shifted: [Int: Int] = [:]
      for (back, byte) in position.lastBytes where back + delta >= 1 { shifted[back + delta] = byte }
      position.lastBytes = shifted
    } else {
      position.lastBytes = [:]
    }
    move(&position, by: delta)
    cursors[pointer] = position
  }

  private func move(_ position: inout Position, by delta: Int) {
    let before = position.offset
    position.offset = moved(before, by: delta)
    if let offset = position.offset {
      position.floor = offset.lowerBound
    } else if delta < 0 {
      // Stepping back where the offset is not known: a store may land anywhere, and in a
      // loop one already seen may land lower on the next turn.
      position.floor = nil
      if loopDepth > 0 { bytes[position.array] = nil }
    } else if let before {
      position.floor = before.lowerBound
    }
  }

  /// The offset after a step of `delta`: exact at the top level, one wider per step in a
  /// branch, unknown in a loop.
  private func moved(_ offset: ClosedRange<Int>?, by delta: Int) -> ClosedRange<Int>? {
    guard let offset, loopDepth == 0, !afterLabel else { return nil }
    if depth == 0 { return (offset.lowerBound + delta)...(offset.upperBound + delta) }
    return min(offset.lowerBound, offset.lowerBound + delta)...max(offset.upperBound, offset.upperBound + delta)
  }

  /// What a call argument `tmp`, `tmp + K` or `&tmp[K]` is known to hold, by offset from it.
  func elements(of argument: Cursor) -> [Int: Int]? {
    guard let (array, start) = Self.arrayPointer(argument), let known = bytes[array] else { return nil }
    var relative: [Int: Int] = [:]
    for (offset, value) in known where offset >= start { relative[offset - start] = value }
    return relative.isEmpty ? nil : relative
  }

  /// The range of an integer argument that is a cursor's distance into its array, plus a
  /// constant: `cp - tmp`, `cp - tmp - 2`, `cp - (tmp + 2)`.
  func distance(of argument: Cursor) -> ClosedRange<Int>? {
    guard let (pointer, array, constant) = cursorDistance(argument), let position = cursors[pointer],
      position.array == array, let offset = position.offset
    else { return nil }
    return (offset.lowerBound + constant)...(offset.upperBound + constant)
  }

  /// For a pointer argument `tmp + K` passed with a length `cp - tmp - K` (the distance from
  /// the pointer to the cursor): the last bytes before the cursor, by distance back.
  func lastBytes(of pointerArgument: Cursor, before lengthArgument: Cursor) -> [Int: Int]? {
    guard !afterLabel, let (array, start) = Self.arrayPointer(pointerArgument),
      let (pointer, lengthArray, constant) = cursorDistance(lengthArgument), lengthArray == array,
      constant == -start, let position = cursors[pointer], position.array == array
    else { return nil }
    return position.lastBytes.isEmpty ? nil : position.lastBytes
  }

  /// `cursor - array + constant`, as a sum of terms with signs.
  private func cursorDistance(_ argument: Cursor) -> (pointer: String, array: String, constant: Int)? {
    var pointer: String?
    var array: String?
    var constant = 0
    func add(_ cursor: Cursor, sign: Int) -> Bool {
      let expression = cursor.strippingParenthesesAndCasts
      if let value = expression.integerValue {
        guard value.magnitude < Self.largestStep.magnitude, constant.magnitude < Self.largestStep.magnitude else {
          return false
        }
        constant += sign * value
        return true
      }
      if expression.kind == CXCursor_BinaryOperator, let op = expression.operatorSpelling, op == "+" || op == "-" {
        let parts = expression.children.filter(\.isExpression)
        guard parts.count == 2 else { return false }
        return add(parts[0], sign: sign) && add(parts[1], sign: op == "+" ? sign : -sign)
      }
      if let local = Self.localArray(expression), sign == -1, array == nil {
        array = local
        return true
      }
      if expression.kind == CXCursor_DeclRefExpr, let symbol = expression.referenced?.usr, cursors[symbol] != nil,
        sign == 1, pointer == nil
      {
        pointer = symbol
        return true
      }
      return false
    }
    guard add(argument, sign: 1), let pointer, let array else { return nil }
    return (pointer, array, constant)
  }

  /// `tmp`, `tmp + K` or `&tmp[K]`: the array and the offset.
  private static func arrayPointer(_ argument: Cursor) -> (array: String, start: Int)? {
    let expression = argument.strippingParenthesesAndCasts
    if let local = localArray(expression) { return (local, 0) }
    if expression.kind == CXCursor_BinaryOperator, expression.operatorSpelling == "+" {
      let parts = expression.children.filter(\.isExpression)
      if parts.count == 2, let local = localArray(parts[0]), let offset = parts[1].integerValue {
        return (local, offset)
      }
    } else if expression.kind == CXCursor_UnaryOperator, expression.operatorSpelling == "&",
      let subscriptExpression = expression.children.first(where: \.isExpression)?.strippingParenthesesAndCasts,
      subscriptExpression.kind == CXCursor_ArraySubscriptExpr
    {
      let parts = subscriptExpression.children.filter(\.isExpression)
      if parts.count == 2, let local = localArray(parts[0]), let offset = parts[1].integerValue {
        return (local, offset)
      }
    }
    return nil
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

  /// `*cp` or `cp[K]` with K ≥ 0: the cursor's symbol. A store through any other
  /// expression that names a cursor (`*(cp + n)`, `cp[-1]`, `cp[i]`) may land anywhere in
  /// its array, which is then forgotten.
  private func storeThroughCursor(_ target: Cursor) -> String? {
    guard
      (target.kind == CXCursor_UnaryOperator && target.operatorSpelling == "*")
        || target.kind == CXCursor_ArraySubscriptExpr,
      let base = target.children.first(where: \.isExpression)?.strippingParenthesesAndCasts
    else { return nil }
    let index =
      target.kind == CXCursor_ArraySubscriptExpr ? target.children.filter(\.isExpression).dropFirst().first : nil
    if base.kind == CXCursor_DeclRefExpr, let symbol = base.referenced?.usr, cursors[symbol] != nil,
      index.map({ ($0.integerValue ?? -1) >= 0 }) ?? true
    {
      return symbol
    }
    for symbol in cursorsNamed(in: base) {
      if let array = cursors[symbol]?.array {
        bytes[array] = nil
        cursors[symbol]?.lastBytes = [:]
      }
    }
    return nil
  }

  /// `*cp++`: the pointer's symbol.
  private static func postIncrementedDereference(_ cursor: Cursor) -> String? {
    guard cursor.kind == CXCursor_UnaryOperator, cursor.operatorSpelling == "*",
      let inner = cursor.children.first(where: \.isExpression)?.strippingParenthesesAndCasts,
      inner.kind == CXCursor_UnaryOperator,
      (inner.operatorSpelling ?? cursor.postfixOperatorOfDereferencedOperand) == "++",
      let operand = inner.children.first(where: \.isExpression)?.strippingParenthesesAndCasts,
      operand.kind == CXCursor_DeclRefExpr
    else { return nil }
    return operand.referenced?.usr
  }
}
