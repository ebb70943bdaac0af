/// Converts between clang's byte columns and LSP positions, which count UTF-16 code units
/// unless client and server agreed on UTF-8.
struct TextPositions {
  enum Encoding: String {
    case utf8 = "utf-8"
    case utf16 = "utf-16"
  }

  let lines: [Substring]
  let encoding: Encoding

  init(text: String, encoding: Encoding) {
    self.lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    self.encoding = encoding
  }

  /// The LSP character offset of a 1-based byte column on a 1-based line.
  func character(line: Int, byteColumn: Int) -> Int {
    guard line >= 1, line <= lines.count else { return max(byteColumn - 1, 0) }
    let bytes = Array(lines[line - 1].utf8)
    let prefix = Array(bytes.prefix(max(byteColumn - 1, 0)))
    switch encoding {
    case .utf8: return prefix.count
    case .utf16: return String(decoding: prefix, as: UTF8.self).utf16.count
    }
  }

  /// The end of the identifier starting at a byte column, so the editor underlines a word.
  func wordEnd(line: Int, byteColumn: Int) -> Int {
    guard line >= 1, line <= lines.count else { return byteColumn }
    let bytes = Array(lines[line - 1].utf8)
    var column = max(byteColumn - 1, 0)
    let start = column
    while column < bytes.count,
      bytes[column] == UInt8(ascii: "_") || (bytes[column] < 128 && isAlphanumeric(bytes[column]))
    {
      column += 1
    }
    return column == start ? min(start + 1, max(bytes.count, start + 1)) + 1 : column + 1
  }

  func indentation(line: Int) -> String {
    guard line >= 1, line <= lines.count else { return "" }
    return String(lines[line - 1].prefix { $0 == " " || $0 == "\t" })
  }

  private func isAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
  }
}
