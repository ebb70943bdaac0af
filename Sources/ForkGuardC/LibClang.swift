import CClang
import ForkGuardCore
import Foundation

extension CXString {
  /// Takes ownership: the CXString is disposed.
  func consume() -> String {
    defer { clang_disposeString(self) }
    guard let cString = clang_getCString(self) else { return "" }
    return String(cString: cString)
  }
}

/// The names of one translation unit's files by libclang's file handle. Every location
/// asks for its file; making the string (and normalising it) once per file instead of once
/// per location is a measurable part of extraction. Handles are only valid within their
/// translation unit, so each unit gets its own table.
final class FileNames {
  private var names: [UnsafeMutableRawPointer: String] = [:]

  func name(of file: CXFile) -> String {
    if let name = names[file] { return name }
    var name = clang_getFileName(file).consume()
    // `#include "../../x.c"` names a file that is also analysed as `x.c`: one spelling.
    if name.contains("/./") || name.contains("/../") {
      name = URL(fileURLWithPath: name).standardizedFileURL.path
    }
    names[file] = name
    return name
  }
}

/// A thin value wrapper over `CXCursor` with the few questions the extractor asks.
struct Cursor {
  let raw: CXCursor

  init(_ raw: CXCursor) { self.raw = raw }

  var kind: CXCursorKind { clang_getCursorKind(raw) }
  var isNull: Bool { clang_Cursor_isNull(raw) != 0 }
  var spelling: String { clang_getCursorSpelling(raw).consume() }
  /// clang's USR, with a file-local symbol (`c:prog.c@F@on_sig`, whose prefix is the file's
  /// base name) qualified by the declaring file's whole path: `a/prog.c` and `b/prog.c`
  /// each have their own `static` functions and variables.
  var usr: String {
    let usr = clang_getCursorUSR(raw).consume()
    guard usr.hasPrefix("c:"), usr.utf8.dropFirst(2).first != UInt8(ascii: "@"),
      let at = usr.firstIndex(of: "@")
    else { return usr }
    var file: CXFile?
    clang_getSpellingLocation(clang_getCursorLocation(raw), &file, nil, nil, nil)
    guard let file else { return usr }
    // One spelling of the path, as `FileNames` gives locations: clang names a header by the
    // path it was last looked up by (`refs/../cache.h` or `cache.h`).
    return "c:" + CFrontEnd.plainPath(clang_getFileName(file).consume()) + usr[at...]
  }
  /// Declared never to return: `__attribute__((noreturn))` (and macros for it) is part of
  /// the function type; `_Noreturn` and `noreturn` from <stdnoreturn.h> are attributes
  /// libclang does not expose, read from the one token where each is spelt (in
  /// a macro's definition when a macro wrote it; an attribute of an earlier declaration is
  /// the definition's too). The tokens from the declaration's start to its name were read
  /// before: clang_tokenize starts at the *spelling* of the start, so a declaration starting
  /// with a macro (`API void f(void)`) read everything from the macro's definition down, and
  /// a `_Noreturn` anywhere there made `f` never return (half of the run on SQLite's
  /// amalgamation went there); a start spelt in a header read nothing. (clang 14 ignores
  /// C2x's `[[noreturn]]`: "unknown attribute".)
  var isDeclaredNoReturn: Bool {
    if clang_getTypeSpelling(type).consume().contains("noreturn") { return true }
    guard clang_Cursor_hasAttrs(raw) != 0 else { return false }
    return children.contains { child in
      guard child.kind == CXCursor_UnexposedAttr else { return false }
      let start = clang_getRangeStart(clang_getCursorExtent(child.raw))
      return Cursor.tokens(in: clang_getRange(start, start), of: child.raw).contains {
        ["_Noreturn", "noreturn", "__noreturn__"].contains($0.spelling)
      }
    }
  }
  var isDefinition: Bool { clang_isCursorDefinition(raw) != 0 }
  var isExpression: Bool { clang_isExpression(kind) != 0 }
  var type: CXType { clang_getCursorType(raw) }
  var referenced: Cursor? {
    let target = Cursor(clang_getCursorReferenced(raw))
    return target.isNull ? nil : target
  }
  var semanticParent: Cursor { Cursor(clang_getCursorSemanticParent(raw)) }
  var storageClass: CX_StorageClass { clang_Cursor_getStorageClass(raw) }

  var children: [Cursor] {
    final class Box { var items: [Cursor] = [] }
    let box = Box()
    let context = Unmanaged.passUnretained(box).toOpaque()
    clang_visitChildren(
      raw,
      { child, _, context in
        Unmanaged<Box>.fromOpaque(context!).takeUnretainedValue().items.append(Cursor(child))
        return CXChildVisit_Continue
      }, context)
    return box.items
  }

  var isInSystemHeader: Bool {
    clang_Location_isInSystemHeader(clang_getCursorLocation(raw)) != 0
  }

  /// Where the cursor is, seen through macro expansions (the place the user wrote).
  func location(in names: FileNames) -> SourceLocation? { Cursor.location(clang_getCursorLocation(raw), in: names) }

  func extentEnd(in names: FileNames) -> SourceLocation? {
    Cursor.location(clang_getRangeEnd(clang_getCursorExtent(raw)), in: names)
  }

  static func location(_ location: CXSourceLocation, in names: FileNames) -> SourceLocation? {
    var file: CXFile?
    var line: UInt32 = 0
    var column: UInt32 = 0
    clang_getExpansionLocation(location, &file, &line, &column, nil)
    guard let file else { return nil }
    return SourceLocation(file: names.name(of: file), line: Int(line), column: Int(column))
  }

  static func offset(_ location: CXSourceLocation) -> UInt32 {
    var offset: UInt32 = 0
    clang_getExpansionLocation(location, nil, nil, nil, &offset)
    return offset
  }

  /// The file and offset of the place as written: a place in a macro expansion is taken at
  /// the expansion.
  static func expansion(_ location: CXSourceLocation) -> (file: CXFile, offset: UInt32)? {
    var file: CXFile?
    var offset: UInt32 = 0
    clang_getExpansionLocation(location, &file, nil, nil, &offset)
    return file.map { ($0, offset) }
  }

  /// Skips what the source does not show: implicit casts, parentheses, explicit casts.
  var strippingParenthesesAndCasts: Cursor {
    var cursor = self
    while true {
      switch cursor.kind {
      case CXCursor_UnexposedExpr, CXCursor_ParenExpr, CXCursor_CStyleCastExpr:
        let inner = cursor.children.filter(\.isExpression)
        guard let last = inner.last else { return cursor }
        cursor = last
      default:
        return cursor
      }
    }
  }

  /// The source tokens of the cursor's extent.
  var tokens: [(spelling: String, offset: UInt32)] { Cursor.tokens(in: clang_getCursorExtent(raw), of: raw) }

  /// The source text of an expression, token by token (`cfg->mu`, `*pid`). For an expression
  /// a macro wrote, libclang tokenizes from the macro's definition to its use, a file apart
  /// (postgres's `PG_SEM_REF(x)` gave a lock a 40 KB name): then the text is rebuilt from
  /// the expression's parts (`sema->sem_padded.pgsem`).
  var sourceText: String {
    let extent = clang_getCursorExtent(raw)
    let (start, end) = (Self.offset(clang_getRangeStart(extent)), Self.offset(clang_getRangeEnd(extent)))
    // Tokenizing an extent that starts in a macro starts at the macro's definition: tokens
    // outside the expression's own stretch of source say so.
    if start <= end, end - start <= Self.longestExpressionText {
      switch Self.writtenText(extent, of: raw) {
      case .plain(let text):
        return text
      case .macroDefinedEarlier:
        break  // tokens from the definition on would start before `start`: the parts, below
      case .unknown:
        let tokens = self.tokens
        if tokens.allSatisfy({ start <= $0.offset && $0.offset <= end }) { return tokens.map(\.spelling).joined() }
      }
    }
    let operands = children.filter(\.isExpression).map { $0.strippingParenthesesAndCasts.sourceText }
    switch kind {
    case CXCursor_MemberRefExpr:
      let base = children.first(where: \.isExpression)
      let arrow = base.map { clang_getCanonicalType($0.type).kind == CXType_Pointer } ?? false
      return (operands.first ?? "") + (arrow ? "->" : ".") + spelling
    case CXCursor_ArraySubscriptExpr:
      return "\(operands.first ?? "")[\(operands.dropFirst().first ?? "")]"
    case CXCursor_UnaryOperator:
      return (operatorSpelling ?? "") + (operands.first ?? "")
    default:
      return spelling
    }
  }

  private static let longestExpressionText: UInt32 = 256

  /// What `writtenText` found for an extent.
  private enum WrittenText {
    case plain(String)
    /// The extent starts in a macro defined earlier in the same file.
    case macroDefinedEarlier
    case unknown
  }

  /// Which of `names` the cursor's extent spells as a whole identifier in its file's bytes,
  /// whatever the preprocessor made of it (comments and strings included: a mention there
  /// only makes the answer more careful). Empty when the extent is not one plain range.
  ///
  /// `fileSpells` answers, once per file, whether the whole file spells any of them: most
  /// files spell none, and their functions need no search.
  func spelledIdentifiers(among names: [String], fileSpells: (CXFile, UnsafeRawBufferPointer) -> Bool) -> [String] {
    let extent = clang_getCursorExtent(raw)
    guard !names.isEmpty, let unit = clang_Cursor_getTranslationUnit(raw),
      let start = Self.expansion(clang_getRangeStart(extent)), let end = Self.expansion(clang_getRangeEnd(extent)),
      clang_File_isEqual(start.file, end.file) != 0, start.offset <= end.offset
    else { return [] }
    var size = 0
    guard let contents = clang_getFileContents(unit, start.file, &size), Int(end.offset) <= size else { return [] }
    let file = UnsafeRawBufferPointer(start: contents, count: size)
    guard fileSpells(start.file, file) else { return [] }
    return Self.identifiers(names, spelledIn: file[Int(start.offset)..<Int(end.offset)])
  }

  /// Which of `names` the bytes spell as a whole identifier.
  static func identifiers(_ names: [String], spelledIn bytes: Slice<UnsafeRawBufferPointer>) -> [String] {
    func isIdentifierByte(_ byte: UInt8) -> Bool {
      byte == UInt8(ascii: "_") || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
        || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
        || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
    return names.filter { name in
      let needle = Array(name.utf8)
      guard let first = needle.first else { return false }
      var index = bytes.startIndex
      while index + needle.count <= bytes.endIndex {
        if bytes[index] == first, bytes[index..<(index + needle.count)].elementsEqual(needle),
          index == bytes.startIndex || !isIdentifierByte(bytes[index - 1]),
          index + needle.count == bytes.endIndex || !isIdentifierByte(bytes[index + needle.count])
        {
          return true
        }
        index += 1
      }
      return false
    }
  }

  /// The tokens of an extent written plainly in one file, joined: its bytes less white space
  /// and comments (literals kept whole), read from the file's buffer. This is what joining
  /// clang_tokenize's tokens gives, without a token, a string per token and an identifier
  /// lookup per word, which made most of the parse time of large files. An end inside a
  /// macro expansion is found as clang_tokenize finds it (`firstToken`): the token read first
  /// at the start must be at the start, and the one at the end at or after the end (a macro
  /// is defined before its use, so a body's spelling lies before it).
  private static func writtenText(_ extent: CXSourceRange, of cursor: CXCursor) -> WrittenText {
    guard let unit = clang_Cursor_getTranslationUnit(cursor),
      let start = expansion(clang_getRangeStart(extent)), let end = expansion(clang_getRangeEnd(extent)),
      clang_File_isEqual(start.file, end.file) != 0, start.offset <= end.offset,
      let first = firstToken(at: clang_getRangeStart(extent), of: cursor),
      clang_File_isEqual(first.file, start.file) != 0
    else { return .unknown }
    // Tokenizing would begin at `first`; before `start` means a macro body spelt earlier.
    if first.offset < start.offset { return .macroDefinedEarlier }
    guard first.offset == start.offset else { return .unknown }
    if let after = firstToken(at: clang_getRangeEnd(extent), of: cursor),
      clang_File_isEqual(after.file, end.file) == 0 || after.offset < end.offset
    {
      return .unknown
    }
    var size = 0
    guard let contents = clang_getFileContents(unit, start.file, &size), Int(end.offset) <= size else {
      return .unknown
    }
    let bytes = UnsafeRawBufferPointer(start: contents, count: size)[Int(start.offset)..<Int(end.offset)]
    var text: [UInt8] = []
    text.reserveCapacity(bytes.count)
    var index = bytes.startIndex
    func at(_ i: Int) -> UInt8? { i < bytes.endIndex ? bytes[i] : nil }
    while index < bytes.endIndex {
      let byte = bytes[index]
      switch byte {
      case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0x0B, 0x0C:
        index += 1
      case UInt8(ascii: "\\") where at(index + 1) == UInt8(ascii: "\n"):
        index += 2
      case UInt8(ascii: "/") where at(index + 1) == UInt8(ascii: "/"):
        while index < bytes.endIndex, bytes[index] != UInt8(ascii: "\n") { index += 1 }
      case UInt8(ascii: "/") where at(index + 1) == UInt8(ascii: "*"):
        index += 2
        while index < bytes.endIndex, !(bytes[index] == UInt8(ascii: "*") && at(index + 1) == UInt8(ascii: "/")) {
          index += 1
        }
        index = min(index + 2, bytes.endIndex)
      case UInt8(ascii: "\""), UInt8(ascii: "'"):
        // A literal, escapes and all, to its closing quote.
        text.append(byte)
        index += 1
        while index < bytes.endIndex {
          let inner = bytes[index]
          text.append(inner)
          index += 1
          if inner == UInt8(ascii: "\\"), index < bytes.endIndex {
            text.append(bytes[index])
            index += 1
          } else if inner == byte || inner == UInt8(ascii: "\n") {
            break
          }
        }
      default:
        text.append(byte)
        index += 1
      }
    }
    return .plain(String(decoding: text, as: UTF8.self))
  }

  /// Where the first token clang_tokenize reads from a location is, as written (libclang
  /// 14's clang_getSpellingLocation answers with the expansion, so this is how to learn
  /// where a macro-expanded location is spelt).
  static func firstToken(at location: CXSourceLocation, of cursor: CXCursor) -> (file: CXFile, offset: UInt32)? {
    let unit = clang_Cursor_getTranslationUnit(cursor)
    var tokens: UnsafeMutablePointer<CXToken>?
    var count: UInt32 = 0
    clang_tokenize(unit, clang_getRange(location, location), &tokens, &count)
    guard let tokens else { return nil }
    defer { clang_disposeTokens(unit, tokens, count) }
    return count > 0 ? expansion(clang_getTokenLocation(unit, tokens[0])) : nil
  }

  /// The tokens of `range` that start at or after `offset` (an expansion offset in the
  /// range's file), as `tokens(in:)` gives them. clang_tokenize reads from the spelling of
  /// the range's start: for a macro defined earlier in the same file (an amalgamation), that
  /// is its definition, and everything between was read only to be dropped here (8 of the
  /// 12 seconds SQLite's 9.7 MB took). Then only the stretch from `offset` to where reading
  /// would stop is read, which holds the same tokens.
  static func tokens(
    in range: CXSourceRange, atOrAfter offset: UInt32, of cursor: CXCursor
  ) -> [(spelling: String, offset: UInt32)] {
    func everything() -> [(spelling: String, offset: UInt32)] {
      tokens(in: range, of: cursor).filter { $0.offset >= offset }
    }
    guard let file = expansion(clang_getRangeStart(range))?.file, let unit = clang_Cursor_getTranslationUnit(cursor),
      let begin = firstToken(at: clang_getRangeStart(range), of: cursor), clang_File_isEqual(begin.file, file) != 0,
      begin.offset < offset
    else { return everything() }
    // Reading stops at the end's spelling. Written plainly, that is the end itself (the
    // token read there may lie past white space): read to it, as the long way does. Spelt
    // in a macro argument, it is just after a token of the argument: read to the next token
    // and keep what starts before it. Spelt in another file, nothing is read; at or before
    // `offset` (a body spelt earlier), nothing read is kept.
    guard let (endFile, endExpansion) = expansion(clang_getRangeEnd(range)), clang_File_isEqual(endFile, file) != 0,
      let probe = firstToken(at: clang_getRangeEnd(range), of: cursor)
    else { return everything() }
    guard clang_File_isEqual(probe.file, file) != 0 else { return [] }
    var size = 0
    guard let contents = clang_getFileContents(unit, file, &size), Int(probe.offset) <= size else {
      return everything()
    }
    let plain =
      probe.offset >= endExpansion
      && UnsafeRawBufferPointer(start: contents, count: size)[Int(endExpansion)..<Int(probe.offset)].allSatisfy {
        $0 == 0x20 || (0x09...0x0D).contains($0)
      }
    let end = plain ? endExpansion : probe.offset
    guard end > offset else { return [] }
    let stretch = tokens(
      in: clang_getRange(clang_getLocationForOffset(unit, file, offset), clang_getLocationForOffset(unit, file, end)),
      of: cursor)
    return stretch.filter { $0.offset >= offset && (plain || $0.offset < end) }
  }

  /// The tokens of a range; operators are found by tokenizing only the gap around them.
  static func tokens(in range: CXSourceRange, of cursor: CXCursor) -> [(spelling: String, offset: UInt32)] {
    let unit = clang_Cursor_getTranslationUnit(cursor)
    var tokens: UnsafeMutablePointer<CXToken>?
    var count: UInt32 = 0
    clang_tokenize(unit, range, &tokens, &count)
    guard let tokens else { return [] }
    defer { clang_disposeTokens(unit, tokens, count) }
    return (0..<Int(count)).map { index in
      (
        clang_getTokenSpelling(unit, tokens[index]).consume(),
        Cursor.offset(clang_getTokenLocation(unit, tokens[index]))
      )
    }
  }

  /// The operator of a binary or unary operator expression, read from the few tokens
  /// between its operands (tokenizing the whole expression is costly for large ones).
  var operatorSpelling: String? {
    let operands = children
    let extent = clang_getCursorExtent(raw)
    // Written in a macro's body, the expression and its operands all have the macro call's
    // extent, and the tokens there are the call's, not the operator's.
    if let first = operands.first {
      let operand = clang_getCursorExtent(first.raw)
      if Cursor.offset(clang_getRangeEnd(operand)) == Cursor.offset(clang_getRangeEnd(extent)),
        Cursor.offset(clang_getRangeStart(operand)) == Cursor.offset(clang_getRangeStart(extent))
      {
        return operatorSpeltInMacro(operands)
      }
    }
    switch kind {
    case CXCursor_BinaryOperator, CXCursor_CompoundAssignOperator:
      guard operands.count == 2 else { return nil }
      let lhsEnd = clang_getRangeEnd(clang_getCursorExtent(operands[0].raw))
      let rhsStart = clang_getRangeStart(clang_getCursorExtent(operands[1].raw))
      let lhsOffset = Cursor.offset(lhsEnd)
      let gap = Cursor.tokens(in: clang_getRange(lhsEnd, rhsStart), atOrAfter: lhsOffset, of: raw)
      if let found = gap.first(where: { $0.offset >= lhsOffset })?.spelling, Self.binaryOperators.contains(found) {
        return found
      }
      // An operand that starts in a macro expansion (`errno == EAGAIN`) gives no usable gap:
      // read on to the end of the expression instead.
      let rest = Cursor.tokens(in: clang_getRange(lhsEnd, clang_getRangeEnd(extent)), atOrAfter: lhsOffset, of: raw)
      return rest.first { $0.offset >= lhsOffset && Self.binaryOperators.contains($0.spelling) }?.spelling
    case CXCursor_UnaryOperator:
      guard let operand = operands.first else { return nil }
      let operandExtent = clang_getCursorExtent(operand.raw)
      let prefix = Cursor.tokens(
        in: clang_getRange(clang_getRangeStart(extent), clang_getRangeStart(operandExtent)), of: raw)
      let operandStart = Cursor.offset(clang_getRangeStart(operandExtent))
      if let first = prefix.first, first.offset < operandStart, Self.unaryOperators.contains(first.spelling) {
        return first.spelling
      }
      let suffix = Cursor.tokens(
        in: clang_getRange(clang_getRangeEnd(operandExtent), clang_getRangeEnd(extent)), of: raw)
      return suffix.last.flatMap { Self.unaryOperators.contains($0.spelling) ? $0.spelling : nil }
    default:
      return nil
    }
  }

  /// The operator of an expression written in a macro's body, read in the `#define` where
  /// it is spelt. A binary operator is the token right before its right operand's first
  /// token, or right after its left operand's last one, wherever that token is spelt on a
  /// directive line: between two tokens copied from a body, the expansion holds exactly
  /// what the body holds there. A parameter or a macro name next to the operand (an
  /// identifier) gives no reading, and `,` gives none either: it also separates a nested
  /// macro call's arguments. Where both readings give an operator, they must agree.
  private func operatorSpeltInMacro(_ operands: [Cursor]) -> String? {
    switch kind {
    case CXCursor_BinaryOperator, CXCursor_CompoundAssignOperator:
      guard operands.count == 2 else { return nil }
      var before: String?
      if let (line, index) = Cursor.definitionLine(
        at: clang_getRangeStart(clang_getCursorExtent(operands[1].raw)), of: raw),
        index > 0
      {
        before = Self.binaryOperators.contains(line[index - 1].spelling) ? line[index - 1].spelling : nil
      }
      var after: String?
      if let (line, index) = Cursor.lastSpeltToken(of: operands[0]), index + 1 < line.count {
        after = Self.binaryOperators.contains(line[index + 1].spelling) ? line[index + 1].spelling : nil
      }
      guard let found = before ?? after, before == nil || after == nil || before == after, found != "," else {
        return nil
      }
      return found
    case CXCursor_UnaryOperator:
      // Prefix only: the expression's first token is then its operator.
      guard let (line, index) = Cursor.definitionLine(at: clang_getRangeStart(clang_getCursorExtent(raw)), of: raw),
        Self.unaryOperators.contains(line[index].spelling)
      else { return nil }
      return line[index].spelling
    default:
      return nil
    }
  }

  /// For `*P++` (or `*P--`) written in a macro's body with `P` one token there (the macro's
  /// parameter, which a name was passed for): the postfix operator, read two tokens after
  /// the `*`. The postfix expression itself cannot say, since it starts at the argument,
  /// which is spelt where the macro is called (telnet's `PUTSHORT(cp, x)`).
  var postfixOperatorOfDereferencedOperand: String? {
    guard kind == CXCursor_UnaryOperator,
      let inner = children.first(where: \.isExpression)?.strippingParenthesesAndCasts,
      inner.kind == CXCursor_UnaryOperator, inner.operatorSpelling == nil,
      inner.children.first(where: \.isExpression)?.strippingParenthesesAndCasts.kind == CXCursor_DeclRefExpr,
      let (line, index) = Cursor.definitionLine(at: clang_getRangeStart(clang_getCursorExtent(raw)), of: raw),
      line[index].spelling == "*", index + 2 < line.count,
      line[index + 1].spelling.first.map({ $0 == "_" || $0.isLetter }) ?? false
    else { return nil }
    let step = line[index + 2].spelling
    return step == "++" || step == "--" ? step : nil
  }

  /// The last token of an expression written in a macro's body, in the `#define` line
  /// where it is spelt: a parenthesised expression ends at the `)` matching its `(`, a
  /// name or literal is its one token, and a cast, an implicit conversion, a prefix or
  /// binary operator or a conditional ends where its last operand does. Nil for anything
  /// else, and for a token spelt elsewhere (a macro argument, a nested macro).
  private static func lastSpeltToken(of expression: Cursor) -> (line: [(spelling: String, offset: UInt32)], index: Int)?
  {
    let start = clang_getRangeStart(clang_getCursorExtent(expression.raw))
    switch expression.kind {
    case CXCursor_ParenExpr:
      guard let (line, open) = definitionLine(at: start, of: expression.raw), line[open].spelling == "(" else {
        return nil
      }
      var depth = 0
      for index in open..<line.count {
        switch line[index].spelling {
        case "(": depth += 1
        case ")":
          depth -= 1
          if depth == 0 { return (line, index) }
        default: continue
        }
      }
      return nil
    case CXCursor_DeclRefExpr, CXCursor_IntegerLiteral, CXCursor_CharacterLiteral, CXCursor_FloatingLiteral:
      return definitionLine(at: start, of: expression.raw)
    case CXCursor_UnaryOperator:
      // A postfix operator's last token is the operator, not its operand's.
      guard let (line, index) = definitionLine(at: start, of: expression.raw),
        unaryOperators.contains(line[index].spelling)
      else { return nil }
      // `*P++`: the `++`, two tokens on.
      if expression.postfixOperatorOfDereferencedOperand != nil { return (line, index + 2) }
      return expression.children.last.flatMap(lastSpeltToken(of:))
    case CXCursor_UnexposedExpr, CXCursor_CStyleCastExpr, CXCursor_BinaryOperator, CXCursor_ConditionalOperator:
      return expression.children.last(where: \.isExpression).flatMap(lastSpeltToken(of:))
    default:
      return nil
    }
  }

  /// The tokens of the `#define` line (with its continuation lines) on which a place inside
  /// a macro expansion is spelt, and the index of the token at that place; nil when the
  /// place is not spelt on a directive line. clang_tokenize reads from a range's spelling,
  /// so one token at the place says where that is.
  private static func definitionLine(at place: CXSourceLocation, of cursor: CXCursor)
    -> (line: [(spelling: String, offset: UInt32)], index: Int)?
  {
    guard let cache = MacroLines.current else { return readDefinitionLine(at: place, of: cursor, cache: nil) }
    let key = MacroLines.Place(place)
    if let known = cache.byPlace[key] { return known }
    let read = readDefinitionLine(at: place, of: cursor, cache: cache)
    cache.byPlace[key] = .some(read)
    return read
  }

  private static func readDefinitionLine(at place: CXSourceLocation, of cursor: CXCursor, cache: MacroLines?)
    -> (line: [(spelling: String, offset: UInt32)], index: Int)?
  {
    let unit = clang_Cursor_getTranslationUnit(cursor)
    guard let (file, offset) = Cursor.firstToken(at: place, of: cursor) else { return nil }
    let bytes: UnsafeRawBufferPointer
    if let known = cache?.contents[UInt(bitPattern: file)] {
      bytes = known
    } else {
      // Costly for a file in a precompiled preamble (libclang finds its buffer again).
      var size = 0
      guard let contents = clang_getFileContents(unit, file, &size) else { return nil }
      bytes = UnsafeRawBufferPointer(start: contents, count: size)
      cache?.contents[UInt(bitPattern: file)] = bytes
    }
    let size = bytes.count
    let newline = UInt8(ascii: "\n")
    let backslash = UInt8(ascii: "\\")
    func continues(_ newlineAt: Int) -> Bool {
      var index = newlineAt - 1
      if index >= 0, bytes[index] == UInt8(ascii: "\r") { index -= 1 }
      return index >= 0 && bytes[index] == backslash
    }
    var start = Int(offset)
    while start > 0, !(bytes[start - 1] == newline && !continues(start - 1)) { start -= 1 }
    var end = Int(offset)
    while end < size, !(bytes[end] == newline && !continues(end)) { end += 1 }
    var first = start
    while first < end, bytes[first] == UInt8(ascii: " ") || bytes[first] == UInt8(ascii: "\t") { first += 1 }
    guard first < end, bytes[first] == UInt8(ascii: "#") else { return nil }
    let lineKey = MacroLines.Line(file: UInt(bitPattern: file), start: first)
    let line =
      cache?.lines[lineKey]
      ?? Cursor.tokens(
        in: clang_getRange(
          clang_getLocationForOffset(unit, file, UInt32(first)), clang_getLocationForOffset(unit, file, UInt32(end - 1))
        ),
        of: cursor)
    cache?.lines[lineKey] = line
    guard let index = line.firstIndex(where: { $0.offset == offset }) else { return nil }
    return (line, index)
  }

  static let unaryOperators: Set<String> = [
    "++", "--", "*", "&", "!", "~", "-", "+", "__extension__", "__real", "__imag",
  ]

  static let binaryOperators: Set<String> = [
    "=", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", ",",
    "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=",
  ]

  /// The integer value of a constant expression (literals, enumerators, macros), if any.
  var integerValue: Int? {
    let result = clang_Cursor_Evaluate(raw)
    guard let result else { return nil }
    defer { clang_EvalResult_dispose(result) }
    guard clang_EvalResult_getKind(result) == CXEval_Int else { return nil }
    return Int(clang_EvalResult_getAsLongLong(result))
  }

  /// The bytes of a string literal (escapes applied, adjacent literals joined), if any.
  /// libclang evaluates a literal only through the cast that decays it to a pointer, so
  /// this is asked of the argument as written.
  var stringLiteralValue: String? {
    guard strippingParenthesesAndCasts.kind == CXCursor_StringLiteral, let result = clang_Cursor_Evaluate(raw) else {
      return nil
    }
    defer { clang_EvalResult_dispose(result) }
    guard clang_EvalResult_getKind(result) == CXEval_StrLiteral, let text = clang_EvalResult_getAsStr(result) else {
      return nil
    }
    return String(cString: text)
  }

  var callArguments: [Cursor] {
    let count = clang_Cursor_getNumArguments(raw)
    guard count > 0 else { return [] }
    return (0..<count).map { Cursor(clang_Cursor_getArgument(raw, UInt32($0))) }
  }
}

/// The libclang forkguard runs on, as it names itself ("Debian clang version 14.0.6").
public enum LibClangVersion {
  public static var description: String { clang_getClangVersion().consume() }
}

/// The `#define` lines read while one translation unit's facts are extracted, each tokenized
/// once: every operator written in a macro's body reads its line, and a header's macros are
/// used all over a file (sshd.c's edit spent a quarter of its time re-reading them). Kept in
/// the extracting thread's dictionary for the extraction only, so its keys (a file's and a
/// place's identities in that unit) never outlive the unit.
final class MacroLines {
  struct Place: Hashable {
    var first: UInt
    var second: UInt
    var offset: UInt32
    init(_ location: CXSourceLocation) {
      first = UInt(bitPattern: location.ptr_data.0)
      second = UInt(bitPattern: location.ptr_data.1)
      offset = location.int_data
    }
  }
  struct Line: Hashable {
    var file: UInt
    var start: Int
  }

  var byPlace: [Place: (line: [(spelling: String, offset: UInt32)], index: Int)?] = [:]
  var lines: [Line: [(spelling: String, offset: UInt32)]] = [:]
  /// Each file's buffer, which the unit owns while it lives.
  var contents: [UInt: UnsafeRawBufferPointer] = [:]

  private static let key = "forkguard.macro-lines"

  static var current: MacroLines? { Thread.current.threadDictionary[key] as? MacroLines }

  static func during<T>(_ body: () -> T) -> T {
    let cache = MacroLines()
    Thread.current.threadDictionary[key] = cache
    defer { Thread.current.threadDictionary.removeObject(forKey: key) }
    return body()
  }
}
