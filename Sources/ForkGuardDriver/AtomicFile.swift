import Foundation

/// Files the caches write while other checks may read them.
enum AtomicFile {
  /// Writes `data` beside `target` and renames it into place: rename(2) is atomic, so a
  /// concurrent reader sees the old file or the new one, never half of one. False when it
  /// could not (the caller then keeps nothing; a cache is never needed).
  @discardableResult
  static func write(_ data: Data, to target: URL) -> Bool {
    let folder = target.deletingLastPathComponent()
    // A dot name and a suffix of its own: no cache lists it as an entry of its kind.
    let temporary = folder.appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString)")
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      try data.write(to: temporary)
      if rename(temporary.path, target.path) == 0 { return true }
    } catch {}
    try? FileManager.default.removeItem(at: temporary)
    return false
  }
}
