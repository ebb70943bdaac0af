/// Converts between clang's byte columns and LSP positions, which count UTF-16 code units
/// unless client and server agreed on UTF-8.
///
/// Lines are found in the text's bytes: splitting the String at Characters was a fifth of
/// the server's own time after an edit of sshd.c, and never split a CRLF file ("\r\n" is one
/// Character).
struct TextPositions {
  enum Encoding: String {
    case utf8 = "utf-8"
    case utf16 = "utf-16"
  }

  let encoding: Encoding
  private let bytes: [UInt8]
  /// The offset of each line's first byte; a line ends before the next one's "\n".
  private let lineStarts: [Int]

  init(text: String, encoding: Encoding) {
    self.encoding = encoding
    bytes = Array(text.utf8)
    var starts = [0]
    for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") { starts.append(offset + 1) }
    lineStarts = starts
  }

  /// The bytes of a 1-based line, without its "\n"; nil past the text.
  private func line(_ number: Int) -> ArraySlice<UInt8>? {
    guard number >= 1, number <= lineStarts.count else { return nil }
    let end = number < lineStarts.count ? lineStarts[number] - 1 : bytes.count
    return bytes[lineStarts[number - 1]..<end]
  }

  /// The LSP character offset of a 1-based byte column on a 1-based line.
  func character(line number: Int, byteColumn: Int) -> Int {
    guard let line = line(number) else { return max(byteColumn - 1, 0) }
    let prefix = line.prefix(max(byteColumn - 1, 0))
    switch encoding {
    case .utf8: return prefix.count
    case .utf16: return String(decoding: prefix, as: UTF8.self).utf16.count
    }
  }

  /// The end of the identifier starting at a byte column, so the editor underlines a word.
  func wordEnd(line number: Int, byteColumn: Int) -> Int {
    guard let line = line(number) else { return byteColumn }
    let start = max(byteColumn - 1, 0)
    var column = start
    while column < line.count, isIdentifierByte(line[line.startIndex + column]) { column += 1 }
    return column == start ? min(start + 1, max(line.count, start + 1)) + 1 : column + 1
  }

  func indentation(line number: Int) -> String {
    guard let line = line(number) else { return "" }
    return String(decoding: line.prefix { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }, as: UTF8.self)
  }

  private func isIdentifierByte(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: "_") || (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90)
      || (byte >= 97 && byte <= 122)
  }
}
