/// Library functions that glibc makes unsafe only for some arguments
/// (rules/data/glibc-argument-safety.json says which and why, from glibc's code):
/// `sysconf(_SC_OPEN_MAX)` is a `getrlimit`.
struct ArgumentSafety: Codable, Sendable {
  struct Rule: Codable, Sendable {
    /// The argument that decides, and the values (by the name C spells them) that are safe.
    var argument: Int
    var values: [String: Int]
    var why: String
    var sources: [String]
  }
  var functions: [String: Rule]

  /// Why a call to `name` is safe with these arguments, or nil: the deciding argument must
  /// hold only safe values on every way the analysis reached the call.
  func whySafe(_ name: String, arguments: [Int: AbstractValue]) -> String? {
    guard let rule = functions[name],
      arguments[rule.argument]?.lies(within: rule.values.values.map { $0...$0 }) == true
    else { return nil }
    return rule.why
  }
}
