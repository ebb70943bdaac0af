import Foundation

/// A file's size and modification time (nanoseconds), as stat(2) gives them: what the facts
/// cache and the language server's kept scans and lookups compare before they trust what
/// they read earlier.
public struct FileStamp: Equatable, Sendable {
  public var size: Int
  public var modified: Int

  /// Nil when the file cannot be stat'ed.
  public init?(_ path: String) {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    size = Int(info.st_size)
    modified = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
  }

  /// The wall clock in nanoseconds, as modification times count: a stamp this recent may
  /// not yet show a change still being written (the same clock tick).
  public static func now() -> Int {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Int(time.tv_sec) * 1_000_000_000 + Int(time.tv_nsec)
  }
}
