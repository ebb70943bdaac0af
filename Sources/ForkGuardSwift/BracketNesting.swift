/// How deep `[` nests in Swift source, outside comments and string literals. swift-syntax
/// 603's type lookahead (`canParseCollectionTypeBody` and the inline-array sugar) backtracks
/// at every `[`, so parsing takes time that doubles with each level: 20 levels take a third
/// of a second, 25 ten seconds, 30 five minutes (found by the swift-front-end fuzz harness).
/// Real code nests a handful of levels; deeper input is refused rather than left to hang.
enum BracketNesting {
  static let limit = 20

  static func deepest(in source: String) -> Int {
    var depth = 0
    var deepest = 0
    let bytes = Array(source.utf8)
    var index = 0
    func at(_ text: String, _ offset: Int) -> Bool {
      let pattern = Array(text.utf8)
      return offset + pattern.count <= bytes.count && Array(bytes[offset..<(offset + pattern.count)]) == pattern
    }
    while index < bytes.count {
      switch bytes[index] {
      case UInt8(ascii: "/") where at("//", index):
        while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
      case UInt8(ascii: "/") where at("/*", index):
        // Swift's block comments nest.
        var open = 0
        repeat {
          if at("/*", index) {
            open += 1
            index += 2
          } else if at("*/", index) {
            open -= 1
            index += 2
          } else {
            index += 1
          }
        } while open > 0 && index < bytes.count
        continue
      case UInt8(ascii: "\""):
        let quote = at("\"\"\"", index) ? "\"\"\"" : "\""
        index += quote.utf8.count
        while index < bytes.count && !at(quote, index) {
          index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
        }
        index += quote.utf8.count
        continue
      case UInt8(ascii: "["):
        depth += 1
        deepest = max(deepest, depth)
      case UInt8(ascii: "]"):
        depth = max(0, depth - 1)
      default:
        break
      }
      index += 1
    }
    return deepest
  }
}
