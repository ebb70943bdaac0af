import Foundation

/// `--timings`: the wall time of each phase of a check, reported as the phase ends.
final class PhaseClock {
  private let report: ((String, Double) -> Void)?
  private var start = Date()

  init(_ report: ((String, Double) -> Void)?) { self.report = report }

  /// Ends the phase running since the last call (or since the clock was made).
  func end(_ name: String) {
    let now = Date()
    report?(name, now.timeIntervalSince(start))
    start = now
  }
}
