import Dispatch
import Foundation

/// Runs work on a thread with a big stack: the analyses recurse as deep as the source nests
/// (a generated 20,000-deep `else if` chain), deeper than the main thread's 8 MiB allow.
enum DeepStack {
  static func run(_ body: @escaping () throws -> Void) throws {
    // Unchecked: the big-stack thread is the only one that touches it until it signals
    // `done`, and the caller reads it only after waiting for that.
    final class Work: @unchecked Sendable {
      var body: (() throws -> Void)?
      var error: Error?
    }
    let work = Work()
    work.body = body
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      do { try work.body?() } catch { work.error = error }
      work.body = nil
      done.signal()
    }
    thread.stackSize = 256 << 20
    thread.start()
    done.wait()
    if let error = work.error { throw error }
  }
}
