/// How deep `[` nests in Swift source, outside comments and string literals. swift-syntax
/// 603's type lookahead (`canParseCollectionTypeBody` and the inline-array sugar) backtracks
/// at every `[`, so parsing takes time that doubles with each level: 20 levels take a third
/// of a second, 25 ten seconds, 30 five minutes (found by the swift-front-end fuzz harness).
/// Real code nests a handful of levels; deeper input is refused rather than left to hang.
enum BracketNesting {
  static let limit = 20

  static func deepest(in source: String) -> Int {
    var source = source
    return source.withUTF8 { deepest(in: $0) }
  }

  /// One pass over the bytes, comparing them in place (no array per comparison: that was a
  /// twentieth of the Swift front end's time).
  static func deepest(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
    let slash = UInt8(ascii: "/")
    let star = UInt8(ascii: "*")
    let quote = UInt8(ascii: "\"")
    var depth = 0
    var deepest = 0
    let count = bytes.count
    var index = 0
    func at(_ first: UInt8, _ second: UInt8, _ offset: Int) -> Bool {
      offset + 2 <= count && bytes[offset] == first && bytes[offset + 1] == second
    }
    func atTripleQuote(_ offset: Int) -> Bool {
      offset + 3 <= count && bytes[offset] == quote && bytes[offset + 1] == quote && bytes[offset + 2] == quote
    }
    while index < count {
      switch bytes[index] {
      case slash where at(slash, slash, index):
        while index < count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
      case slash where at(slash, star, index):
        // Swift's block comments nest.
        var open = 0
        repeat {
          if at(slash, star, index) {
            open += 1
            index += 2
          } else if at(star, slash, index) {
            open -= 1
            index += 2
          } else {
            index += 1
          }
        } while open > 0 && index < count
        continue
      case quote:
        let triple = atTripleQuote(index)
        let length = triple ? 3 : 1
        index += length
        while index < count && !(triple ? atTripleQuote(index) : bytes[index] == quote) {
          index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
        }
        index += length
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
