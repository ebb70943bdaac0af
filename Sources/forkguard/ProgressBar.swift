import Foundation
import Synchronization

/// A one-line progress bar on stderr, only when stderr is a terminal and the run has lasted
/// more than a moment; it erases itself when done.
final class ProgressBar: Sendable {
  private let started = Date()
  private let shown = Mutex(false)

  static func onTerminal() -> ProgressBar? {
    isatty(STDERR_FILENO) != 0 ? ProgressBar() : nil
  }

  func update(_ done: Int, _ total: Int) {
    guard total > 0, Date().timeIntervalSince(started) > 0.5 else { return }
    shown.withLock { shown in
      shown = true
      let width = 30
      let filled = width * done / total
      let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
      FileHandle.standardError.write(Data("\r\u{1b}[K[\(bar)] \(done)/\(total) files".utf8))
    }
  }

  func finish() {
    shown.withLock { shown in
      if shown { FileHandle.standardError.write(Data("\r\u{1b}[K".utf8)) }
    }
  }
}
