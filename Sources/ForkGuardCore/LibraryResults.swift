/// What some library calls return when the arguments the analysis knows decide it
/// (rules/data/libc-results.json says why): `sigaction(SIGTERM, &sa, NULL)` returns 0, so
/// its error branch is not reached.
struct LibraryResults: Codable, Sendable {
  struct Rule: Codable, Sendable {
    /// The argument whose value decides, and the values for which the call succeeds; none
    /// when it always does.
    var argument: Int?
    var ranges: [[Int]]?
    var result: Int
  }
  var results: [String: Rule]

  /// The result of a call to `name`, given what each argument holds where it is made.
  func result(of name: String, argument: (Int) -> AbstractValue?) -> Int? {
    guard let rule = results[name] else { return nil }
    guard let index = rule.argument else { return rule.result }
    let ranges = (rule.ranges ?? []).filter { $0.count == 2 && $0[0] <= $0[1] }.map { $0[0]...$0[1] }
    return argument(index)?.lies(within: ranges) == true ? rule.result : nil
  }
}
