/// glibc's `snprintf` family formatting into the caller's buffer: whether a given format
/// string needs a lock or an allocation (rules/data/glibc-formatting.json says why).
public struct BufferFormatting: Codable, Sendable {
  /// Format argument index, by the name as spelled (`__snprintf_chk` has four arguments before it).
  public var functions: [String: Int]
  public var flags: String
  public var lengthModifiers: [String]
  public var conversions: String
  /// Conversions that print a wide character or string when they follow `l`.
  public var wideConversions: String

  /// The format of a call that formats into a buffer, when the call passes a literal.
  public func literalFormat(of call: CallSite) -> String? {
    guard let index = functions[call.callee], case .string(let format)? = call.argumentValues[index] else {
      return nil
    }
    return format
  }

  /// Every conversion is an integer, a character, a string or a pointer, in the default
  /// argument order, with no `'` grouping: glibc formats it on the stack, without locks.
  public func isLockFree(_ format: String) -> Bool {
    let bytes = Array(format.utf8)
    let flagBytes = Set(flags.utf8)
    let conversionBytes = Set(conversions.utf8)
    let wideBytes = Set(wideConversions.utf8)
    let modifiers = lengthModifiers.map { Array($0.utf8) }.sorted { $0.count > $1.count }
    var index = 0
    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    func skipCount() {
      if index < bytes.count, bytes[index] == UInt8(ascii: "*") {
        index += 1
      } else {
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
      }
    }
    while index < bytes.count {
      guard bytes[index] == UInt8(ascii: "%") else {
        index += 1
        continue
      }
      index += 1
      while index < bytes.count, flagBytes.contains(bytes[index]) { index += 1 }
      skipCount()
      // `%1$s`, `%*2$d`: positional arguments take the allocating path.
      if index < bytes.count, bytes[index] == UInt8(ascii: "$") { return false }
      if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
        index += 1
        skipCount()
        if index < bytes.count, bytes[index] == UInt8(ascii: "$") { return false }
      }
      var modifier: [UInt8] = []
      if let match = modifiers.first(where: { bytes[index...].starts(with: $0) }) {
        modifier = match
        index += match.count
      }
      guard index < bytes.count, conversionBytes.contains(bytes[index]) else { return false }
      if modifier == Array("l".utf8), wideBytes.contains(bytes[index]) { return false }
      index += 1
    }
    return true
  }
}
