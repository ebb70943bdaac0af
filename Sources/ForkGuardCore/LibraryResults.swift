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
    guard let known = argument(index)?.numbers else { return nil }
    let fits = (rule.ranges ?? []).contains { pair in
      pair.count == 2 && pair[0] <= known.lowerBound && known.upperBound <= pair[1]
    }
    return fits ? rule.result : nil
  }
}
