/// glibc functions whose only hazards are a locale's: the message look-ups (`strerror`) and
/// time formatting (`strftime`). In a process that never left the "C" locale they return
/// untranslated text and format from the built-in tables, without an allocation or a lock
/// anything takes for writing (rules/data/glibc-c-locale.json says why, from glibc's code).
public struct CLocaleLookups: Codable, Sendable {
  /// Library calls after which the process may no longer be in the C locale, or may have a
  /// message catalogue bound.
  public var setters: [String]
  /// Functions safe in the C locale, with what glibc does there.
  public var functions: [String: String]
  /// Time formatting functions, by the index of their format argument: safe in the C
  /// locale for a literal format none of whose conversions is in `unsafeConversions`.
  public var timeFormats: [String: Int]
  /// Conversions that may read the time zone: `%Z` runs tzset for a time without a zone
  /// name, `%s` mktime, both under tzset's lock.
  public var unsafeConversions: String
  /// What the time formatting functions do for a safe format.
  public var timeFormatting: String
  /// Functions safe in the C locale only for an argument within a range (`strsignal` for a
  /// signal glibc describes from its table; a real-time one is formatted into a buffer it
  /// allocates), with what glibc does there.
  public var argumentRanges: [String: ArgumentRange]

  public struct ArgumentRange: Codable, Sendable {
    public var argument: Int
    public var low: Int
    public var high: Int
    public var why: String
  }

  /// Whether the call's safety in the C locale depends on what its arguments hold.
  public func dependsOnArguments(_ name: String) -> Bool { argumentRanges[name] != nil }

  /// Why the call is safe in a process that stayed in the C locale, or nil. `arguments`:
  /// what its arguments hold where it is made (`UnsafeCallSearch.Finding.arguments`).
  public func whySafe(_ call: CallSite, name: String, arguments: [Int: AbstractValue]) -> String? {
    if let why = functions[name] { return why }
    if let range = argumentRanges[name] {
      guard range.low <= range.high, arguments[range.argument]?.lies(within: [range.low...range.high]) == true
      else { return nil }
      return range.why
    }
    guard let index = timeFormats[name], case .string(let format)? = call.argumentValues[index],
      isSafeTimeFormat(format)
    else { return nil }
    return timeFormatting
  }

  /// Every conversion of `format` is one the C locale's tables answer without the time zone.
  func isSafeTimeFormat(_ format: String) -> Bool {
    let bytes = Array(format.utf8)
    let unsafe = Set(unsafeConversions.utf8)
    var index = 0
    while index < bytes.count {
      guard bytes[index] == UInt8(ascii: "%") else {
        index += 1
        continue
      }
      index += 1
      // glibc's flags and a field width: `%_3d`, `%-m`, `%010Y`.
      while index < bytes.count, "_-0^#".utf8.contains(bytes[index]) { index += 1 }
      while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
      // `%Ec`, `%Od`: the C locale has no eras or alternative digits, so the plain form.
      if index < bytes.count, bytes[index] == UInt8(ascii: "E") || bytes[index] == UInt8(ascii: "O") { index += 1 }
      guard index < bytes.count, !unsafe.contains(bytes[index]) else { return false }
      index += 1
    }
    return true
  }
}
