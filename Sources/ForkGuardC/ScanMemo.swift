import ForkGuardCore
import Foundation
import Synchronization

/// File scans kept between checks by a long-lived caller (the language server): a file
/// whose size and modification time are unchanged is not read and scanned again. Editor
/// buffers are always scanned afresh.
public final class ScanMemo: Sendable {
  private struct Entry {
    var stamp: FileStamp
    var scan: CSourceScan?
  }
  private let entries = Mutex([String: Entry]())

  public init() {}

  func scan(_ path: String) -> CSourceScan? {
    guard let stamp = FileStamp(path) else { return CSourceScan(path: path) }
    if let known = entries.withLock({ $0[path] }), known.stamp == stamp { return known.scan }
    let scan = CSourceScan(path: path)
    entries.withLock { $0[path] = Entry(stamp: stamp, scan: scan) }
    return scan
  }
}
