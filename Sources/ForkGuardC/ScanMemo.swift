import Foundation
import Synchronization

/// File scans kept between checks by a long-lived caller (the language server): a file
/// whose size and modification time are unchanged is not read and scanned again. Editor
/// buffers are always scanned afresh.
public final class ScanMemo: Sendable {
  private struct Entry {
    var size: Int
    var modified: Int
    var scan: CSourceScan?
  }
  private let entries = Mutex([String: Entry]())

  public init() {}

  func scan(_ path: String) -> CSourceScan? {
    var info = stat()
    guard stat(path, &info) == 0 else { return CSourceScan(path: path) }
    let size = Int(info.st_size)
    let modified = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
    if let known = entries.withLock({ $0[path] }), known.size == size, known.modified == modified {
      return known.scan
    }
    let scan = CSourceScan(path: path)
    entries.withLock { $0[path] = Entry(size: size, modified: modified, scan: scan) }
    return scan
  }
}
