import ForkGuardCore
import Foundation
import Synchronization

/// File scans kept between checks by a long-lived caller (the language server): a file
/// whose size and modification time are unchanged is not read and scanned again. Editor
/// buffers are always scanned afresh. The index built from the scans is kept too: an edit to
/// an open `.c` buffer (which the index leaves out: open files are always parsed) changes
/// none of what it read, and building it again took 80 ms of each edit on openssh.
public final class ScanMemo: Sendable {
  private struct Entry {
    var stamp: FileStamp
    var scan: CSourceScan?
  }
  private let entries = Mutex([String: Entry]())

  /// The last index, with the stamps of what it read, taken before it was read.
  private struct KeptIndex {
    var index: CSourceIndex
    var files: [String: FileStamp?]
    var directories: [String: FileStamp?]
  }
  private let kept = Mutex<KeptIndex?>(nil)

  public init() {}

  func scan(_ path: String) -> CSourceScan? {
    guard let stamp = FileStamp(path) else { return CSourceScan(path: path) }
    if let known = entries.withLock({ $0[path] }), known.stamp == stamp { return known.scan }
    let scan = CSourceScan(path: path)
    entries.withLock { $0[path] = Entry(stamp: stamp, scan: scan) }
    return scan
  }

  /// The index of `units`: the kept one when the units, the buffers it read, every file it
  /// read and every folder an include was looked for in are as they were; else a new one.
  public func index(units: [CSourceIndex.Unit], unsaved: [String: String]) -> CSourceIndex {
    if let last = kept.withLock({ $0 }), last.index.units == units,
      last.index.unsavedRead.allSatisfy({ unsaved[$0.key] == $0.value }),
      !last.index.files.contains(where: { unsaved[$0] != nil && last.index.unsavedRead[$0] == nil }),
      last.files.allSatisfy({ FileStamp($0.key) == $0.value }),
      last.directories.allSatisfy({ FileStamp($0.key) == $0.value })
    {
      return last.index
    }
    let started = FileStamp.now()
    let index = CSourceIndex(units: units, unsaved: unsaved, memo: self)
    // Files are stamped before the scan read them. A folder can only be stamped now: one
    // changed while the index was built (a header created there) keeps nothing.
    let directories = Dictionary(
      uniqueKeysWithValues: index.consultedDirectories.map { ($0, FileStamp($0)) })
    guard !directories.values.contains(where: { ($0?.modified ?? 0) >= started - 1_000_000_000 }) else {
      kept.withLock { $0 = nil }
      return index
    }
    let scanned = entries.withLock { entries in
      Dictionary(
        uniqueKeysWithValues: index.files.filter { index.unsavedRead[$0] == nil }.map { ($0, entries[$0]?.stamp) })
    }
    kept.withLock { $0 = KeptIndex(index: index, files: scanned, directories: directories) }
    return index
  }
}
