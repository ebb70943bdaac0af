/// The known name a misspelling most likely meant, for "did you mean" hints.
enum DidYouMean {
  /// The candidate nearest to `word` by edit distance, if it is near enough to be a typo
  /// (at most a third of the word's length, and at least 1 edit, rounding up) or differs
  /// only in a dropped or added suffix (`vfork` for `vfork-child`).
  static func closest(to word: String, in candidates: [String]) -> String? {
    let lowered = word.lowercased()
    var best: (String, Int)?
    for candidate in candidates {
      let distance = editDistance(lowered, candidate.lowercased())
      if best == nil || distance < best!.1 { best = (candidate, distance) }
    }
    guard let (candidate, distance) = best, distance > 0 else { return nil }
    if distance <= max(2, (word.count + 2) / 3) { return candidate }
    let prefixed = candidates.filter { $0.hasPrefix(lowered) || lowered.hasPrefix($0) }
    return prefixed.count == 1 ? prefixed[0] : nil
  }

  static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8)
    let b = Array(b.utf8)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      current[0] = i
      for j in 1...b.count {
        let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
        current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
      }
      swap(&previous, &current)
    }
    return previous[b.count]
  }
}
