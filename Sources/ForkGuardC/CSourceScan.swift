import Foundation

/// What one C file says without preprocessing or parsing: the names it mentions, the
/// functions it may define, its macros and its `#include`s. Built for deciding which
/// translation units an analysis needs, so every answer errs towards "maybe": a name
/// counts as mentioned wherever it appears outside comments and literals, and as possibly
/// defined wherever it is followed by a parameter list at file scope that does not end in
/// `;`, `,` or `=`.
public struct CSourceScan: Sendable {
  public struct Include: Hashable, Sendable {
    public var name: String
    /// `"name"` rather than `<name>`.
    public var isQuoted: Bool
  }

  /// The literal part of a name `##` makes from a macro parameter: `get_ ## name` makes
  /// names that start with `get_`, `name ## _mask` names that end with `_mask`.
  public struct Fragment: Hashable, Sendable {
    public enum Position: Hashable, Sendable { case prefix, suffix, infix }
    public var text: String
    public var position: Position

    public init(text: String, position: Position) {
      self.text = text
      self.position = position
    }

    public func matches(_ name: String) -> Bool {
      switch position {
      case .prefix: return name.hasPrefix(text)
      case .suffix: return name.hasSuffix(text)
      case .infix: return name.contains(text)
      }
    }
  }

  /// A `#define`'s replacement list.
  public struct Macro: Sendable {
    public var identifiers: Set<String> = []
    /// What `##` glues to parameters: every name the expansion pastes matches one.
    public var pastedFragments: Set<Fragment> = []
    /// `a ## b` with both sides parameters: the expansion may make any name.
    public var pastesParameters = false
    /// Whether the replacement uses a parameter (else arguments vanish, as in
    /// `#define __attribute__(x)`).
    public var usesParameters = false
    /// Whether the replacement has braces: a body, so it may define a function by itself.
    public var hasBraces = false

    /// Another definition of the same name, or an inner macro it expands: whatever
    /// either may make, the result may make.
    public mutating func merge(_ other: Macro) {
      identifiers.formUnion(other.identifiers)
      pastedFragments.formUnion(other.pastedFragments)
      pastesParameters = pastesParameters || other.pastesParameters
      usesParameters = usesParameters || other.usesParameters
      hasBraces = hasBraces || other.hasBraces
    }
  }

  public var identifiers: Set<String> = []
  /// Names followed by a parameter list at file scope and then not by `;`, `,` or `=`,
  /// and not declared `static` (which no other file can call).
  public var fileScopeDefinitions: Set<String> = []
  /// Every identifier at file scope (outside braces), with the identifiers in the
  /// parentheses that follow it: a macro expanded there may define any of them.
  public var fileScopeUses: [String: Set<String>] = [:]
  /// The same for uses followed by `;` (`getopt(int, char **, const char *);`): a macro
  /// there defines something only if its replacement has a body.
  public var fileScopeDeclarations: [String: Set<String>] = [:]
  public var macros: [String: Macro] = [:]
  public var includes: [Include] = []
  /// An `#include` whose file is named by a macro: what it reads is unknown.
  public var hasComputedInclude = false
  /// Not text (a NUL byte or invalid UTF-8): only a real parse can say what it is.
  public var isText = true

  public init(bytes: [UInt8]) {
    isText = !bytes.contains(0) && String(validating: bytes, as: UTF8.self) != nil
    var lexer = Lexer(bytes: bytes)
    lexer.run(into: &self)
  }

  public init?(path: String) {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    self.init(bytes: [UInt8](data))
  }
}

/// Tokens that matter for finding definitions at file scope.
private enum Token {
  case identifier(String)
  case open, close, openBrace, closeBrace, semicolon, comma, equals, other
}

private struct Lexer {
  let bytes: [UInt8]
  var position = 0
  var tokens: [Token] = []

  init(bytes: [UInt8]) { self.bytes = bytes }

  mutating func run(into scan: inout CSourceScan) {
    var atLineStart = true
    while position < bytes.count {
      let byte = bytes[position]
      if byte == UInt8(ascii: "\n") {
        atLineStart = true
        position += 1
        continue
      }
      if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
        || byte == 0x0C || byte == 0x0B
      {
        position += 1
        continue
      }
      if byte == UInt8(ascii: "\\"), position + 1 < bytes.count, isNewline(at: position + 1) {
        position = afterNewline(at: position + 1)
        continue
      }
      if skipComment() { continue }
      if byte == UInt8(ascii: "#") && atLineStart {
        position += 1
        directive(into: &scan)
        atLineStart = true
        continue
      }
      atLineStart = false
      if let token = nextToken() {
        if case .identifier(let name) = token { scan.identifiers.insert(name) }
        tokens.append(token)
      }
    }
    findFileScopeDefinitions(into: &scan)
  }

  // MARK: Characters

  func isNewline(at index: Int) -> Bool {
    bytes[index] == UInt8(ascii: "\n")
      || (bytes[index] == UInt8(ascii: "\r") && index + 1 < bytes.count
        && bytes[index + 1] == UInt8(ascii: "\n"))
  }

  func afterNewline(at index: Int) -> Int {
    bytes[index] == UInt8(ascii: "\r") ? index + 2 : index + 1
  }

  static func isIdentifierStart(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
      || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "$") || byte >= 0x80
  }

  static func isIdentifierBody(_ byte: UInt8) -> Bool {
    isIdentifierStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
  }

  /// Skips a comment at `position`, if one starts there.
  mutating func skipComment() -> Bool {
    guard bytes[position] == UInt8(ascii: "/"), position + 1 < bytes.count else { return false }
    if bytes[position + 1] == UInt8(ascii: "/") {
      // A line comment ends at a newline not escaped by a backslash.
      position += 2
      while position < bytes.count, !isNewline(at: position) || bytes[position - 1] == UInt8(ascii: "\\") {
        position += 1
      }
      return true
    }
    if bytes[position + 1] == UInt8(ascii: "*") {
      position += 2
      while position + 1 < bytes.count,
        !(bytes[position] == UInt8(ascii: "*") && bytes[position + 1] == UInt8(ascii: "/"))
      {
        position += 1
      }
      position = min(bytes.count, position + 2)
      return true
    }
    return false
  }

  mutating func skipLiteral(quote: UInt8) {
    position += 1
    while position < bytes.count {
      let byte = bytes[position]
      if byte == UInt8(ascii: "\\") {
        position += 2
        continue
      }
      if byte == quote {
        position += 1
        return
      }
      // An unterminated literal ends at the line's end, as the preprocessor sees it.
      if byte == UInt8(ascii: "\n") { return }
      position += 1
    }
  }

  /// The token at `position` (never a comment or whitespace), advancing past it.
  mutating func nextToken() -> Token? {
    let byte = bytes[position]
    if Self.isIdentifierStart(byte) {
      let start = position
      while position < bytes.count, Self.isIdentifierBody(bytes[position]) { position += 1 }
      // A string or character literal with an encoding prefix (L"…", u8'…').
      if position < bytes.count, bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "'"),
        position - start <= 2, isEncodingPrefix(start..<position)
      {
        skipLiteral(quote: bytes[position])
        return .other
      }
      return .identifier(String(decoding: bytes[start..<position], as: UTF8.self))
    }
    if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
      || (byte == UInt8(ascii: ".") && position + 1 < bytes.count && bytes[position + 1] >= UInt8(ascii: "0")
        && bytes[position + 1] <= UInt8(ascii: "9"))
    {
      // A preprocessing number: digits, letters, dots and signed exponents.
      position += 1
      while position < bytes.count {
        let next = bytes[position]
        if next == UInt8(ascii: "+") || next == UInt8(ascii: "-"),
          [UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "p"), UInt8(ascii: "P")].contains(bytes[position - 1])
        {
          position += 1
        } else if Self.isIdentifierBody(next) || next == UInt8(ascii: ".") {
          position += 1
        } else {
          break
        }
      }
      return .other
    }
    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
      skipLiteral(quote: byte)
      return .other
    }
    position += 1
    switch byte {
    case UInt8(ascii: "("): return .open
    case UInt8(ascii: ")"): return .close
    case UInt8(ascii: "{"): return .openBrace
    case UInt8(ascii: "}"): return .closeBrace
    case UInt8(ascii: ";"): return .semicolon
    case UInt8(ascii: ","): return .comma
    case UInt8(ascii: "="):
      // `==` is not an initialiser.
      if position < bytes.count, bytes[position] == UInt8(ascii: "=") {
        position += 1
        return .other
      }
      return .equals
    default: return .other
    }
  }

  func isEncodingPrefix(_ range: Range<Int>) -> Bool {
    let text = String(decoding: bytes[range], as: UTF8.self)
    return text == "L" || text == "u" || text == "U" || text == "u8"
  }

  // MARK: Directives

  /// The rest of a logical line: up to an unescaped newline, without comments.
  mutating func directiveLine() -> [UInt8] {
    var line: [UInt8] = []
    while position < bytes.count {
      if isNewline(at: position) { break }
      if bytes[position] == UInt8(ascii: "\\"), position + 1 < bytes.count, isNewline(at: position + 1) {
        position = afterNewline(at: position + 1)
        line.append(UInt8(ascii: " "))
        continue
      }
      if bytes[position] == UInt8(ascii: "/"), position + 1 < bytes.count,
        bytes[position + 1] == UInt8(ascii: "*") || bytes[position + 1] == UInt8(ascii: "/")
      {
        let isLineComment = bytes[position + 1] == UInt8(ascii: "/")
        _ = skipComment()
        if isLineComment { break }
        line.append(UInt8(ascii: " "))
        continue
      }
      if bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "'") {
        let start = position
        skipLiteral(quote: bytes[position])
        line.append(contentsOf: bytes[start..<position])
        continue
      }
      line.append(bytes[position])
      position += 1
    }
    return line
  }

  mutating func directive(into scan: inout CSourceScan) {
    let line = directiveLine()
    var inner = Lexer(bytes: line)
    inner.skipSpaces()
    guard inner.position < line.count, Self.isIdentifierStart(line[inner.position]),
      case .identifier(let name) = inner.nextToken()
    else { return }
    switch name {
    case "include", "include_next", "import":
      inner.skipSpaces()
      guard inner.position < line.count else { return }
      let open = line[inner.position]
      let close: UInt8 = open == UInt8(ascii: "\"") ? UInt8(ascii: "\"") : UInt8(ascii: ">")
      if open == UInt8(ascii: "\"") || open == UInt8(ascii: "<"),
        let end = line[(inner.position + 1)...].firstIndex(of: close)
      {
        let path = String(decoding: line[(inner.position + 1)..<end], as: UTF8.self)
        scan.includes.append(CSourceScan.Include(name: path, isQuoted: open == UInt8(ascii: "\"")))
      } else {
        scan.hasComputedInclude = true
        inner.identifiers(into: &scan.identifiers)
      }
    case "define":
      inner.skipSpaces()
      guard inner.position < line.count, Self.isIdentifierStart(line[inner.position]),
        case .identifier(let macroName) = inner.nextToken()
      else { return }
      var parameters = Set<String>()
      if inner.position < line.count, line[inner.position] == UInt8(ascii: "(") {
        inner.position += 1
        while inner.position < line.count, line[inner.position] != UInt8(ascii: ")") {
          if Self.isIdentifierStart(line[inner.position]), case .identifier(let parameter) = inner.nextToken() {
            parameters.insert(parameter)
          } else {
            inner.position += 1
          }
        }
        inner.position += 1
        // `__VA_ARGS__` stands for the variadic parameter.
        parameters.insert("__VA_ARGS__")
      }
      let macro = inner.replacementList(parameters: parameters)
      scan.identifiers.formUnion(macro.identifiers)
      scan.macros[macroName, default: CSourceScan.Macro()].merge(macro)
    default:
      // `#if defined(fork)`, `#undef`, `#pragma` call nothing; neither does the name a
      // `#define` defines: only its replacement list reaches code.
      break
    }
  }

  mutating func skipSpaces() {
    while position < bytes.count, bytes[position] == UInt8(ascii: " ") || bytes[position] == UInt8(ascii: "\t") {
      position += 1
    }
  }

  mutating func identifiers(into names: inout Set<String>) {
    while position < bytes.count {
      if bytes[position] == UInt8(ascii: " ") || bytes[position] == UInt8(ascii: "\t") {
        position += 1
        continue
      }
      if case .identifier(let name) = nextToken() { names.insert(name) }
    }
  }

  /// A macro's replacement list: its names, and what `##` glues together.
  mutating func replacementList(parameters: Set<String>) -> CSourceScan.Macro {
    var macro = CSourceScan.Macro()
    // Each entry: an identifier (or nil for any other token), and whether `##` follows it.
    var pieces: [(name: String?, pastedToNext: Bool)] = []
    while position < bytes.count {
      let byte = bytes[position]
      if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
        position += 1
        continue
      }
      if byte == UInt8(ascii: "#"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "#") {
        position += 2
        if !pieces.isEmpty { pieces[pieces.count - 1].pastedToNext = true }
        continue
      }
      let token = nextToken()
      if case .openBrace = token { macro.hasBraces = true }
      var name: String?
      if case .identifier(let identifier) = token {
        name = identifier
        macro.identifiers.insert(identifier)
        if parameters.contains(identifier) { macro.usesParameters = true }
      }
      pieces.append((name, false))
    }
    // Each run of pieces joined by `##` makes one name.
    var start = 0
    while start < pieces.count {
      var end = start
      while end < pieces.count - 1 && pieces[end].pastedToNext { end += 1 }
      if end > start { paste(pieces[start...end].map(\.name), parameters: parameters, into: &macro) }
      start = end + 1
    }
    return macro
  }

  private func paste(_ run: [String?], parameters: Set<String>, into macro: inout CSourceScan.Macro) {
    let isParameter = run.map { $0.map(parameters.contains) ?? false }
    guard isParameter.contains(true) else {
      macro.identifiers.insert(run.map { $0 ?? "" }.joined())
      return
    }
    // Literal pieces before the first parameter start the name, those after the last end
    // it, those between are somewhere inside.
    var literal = ""
    var seenParameter = false
    for (piece, parameter) in zip(run, isParameter) {
      if parameter {
        if !literal.isEmpty {
          macro.pastedFragments.insert(.init(text: literal, position: seenParameter ? .infix : .prefix))
        }
        literal = ""
        seenParameter = true
      } else {
        literal += piece ?? ""
      }
    }
    if !literal.isEmpty {
      macro.pastedFragments.insert(.init(text: literal, position: .suffix))
    }
    // Parameters only (`pref ## m`): any name at all.
    if !isParameter.contains(false) { macro.pastesParameters = true }
  }

  // MARK: File scope

  /// Whether what follows a parameter list ends the declaration without a body:
  /// attributes (`__attribute__((noreturn))`, `NORETURN`, `__asm__("x")`), then `;`, `,`
  /// or `=`, and no K&R parameter declarations (`int f(a) int a; {`) before a body.
  func isDeclarationOnly(open: Int, close: Int, matching: [Int]) -> Bool {
    var next = close + 1
    while next < tokens.count, case .identifier = tokens[next] {
      next += 1
      if next < tokens.count, case .open = tokens[next], matching[next] > next { next = matching[next] + 1 }
    }
    guard next < tokens.count else { return true }
    switch tokens[next] {
    case .comma, .equals: return true
    case .semicolon:
      // K&R parameter lists name parameters only: `(a, b)`, never `(int)` or `(char *s)`.
      let parameters = tokens[(open + 1)..<close]
      guard !parameters.isEmpty,
        parameters.allSatisfy({ token in
          switch token {
          case .comma: return true
          case .identifier(let name): return !Self.typeKeywords.contains(name)
          default: return false
          }
        })
      else { return true }
      for token in tokens[(next + 1)...] {
        switch token {
        case .openBrace: return false
        case .open, .equals, .closeBrace: return true
        default: continue
        }
      }
      return true
    default: return false
    }
  }

  static let typeKeywords: Set<String> = [
    "void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool", "bool", "const",
    "volatile", "restrict", "struct", "union", "enum", "register", "_Complex", "__restrict", "__const",
  ]

  mutating func findFileScopeDefinitions(into scan: inout CSourceScan) {
    // The index of each `(`'s matching `)`.
    var matching = [Int](repeating: -1, count: tokens.count)
    var stack: [Int] = []
    for (index, token) in tokens.enumerated() {
      switch token {
      case .open: stack.append(index)
      case .close: if let open = stack.popLast() { matching[open] = index }
      default: break
      }
    }
    var braces = 0
    // Whether the declaration under way at file scope says `static`.
    var isStatic = false
    for (index, token) in tokens.enumerated() {
      switch token {
      case .openBrace: braces += 1
      case .closeBrace:
        braces = max(0, braces - 1)
        if braces == 0 { isStatic = false }
      case .semicolon where braces == 0: isStatic = false
      case .identifier("static") where braces == 0: isStatic = true
      case .identifier(let name) where braces == 0:
        guard index + 1 < tokens.count, case .open = tokens[index + 1] else {
          if scan.fileScopeUses[name] == nil { scan.fileScopeUses[name] = [] }
          continue
        }
        let close = matching[index + 1]
        guard close >= 0 else {
          scan.fileScopeDefinitions.insert(name)
          continue
        }
        var arguments = Set<String>()
        for inner in tokens[(index + 2)..<close] {
          if case .identifier(let argument) = inner { arguments.insert(argument) }
        }
        if isDeclarationOnly(open: index + 1, close: close, matching: matching) {
          scan.fileScopeDeclarations[name, default: []].formUnion(arguments)
        } else {
          scan.fileScopeUses[name, default: []].formUnion(arguments)
          if !isStatic { scan.fileScopeDefinitions.insert(name) }
        }
      default: break
      }
    }
  }
}
