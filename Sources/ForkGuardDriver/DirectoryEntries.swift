#if canImport(Glibc)
  import Glibc
#endif

/// A folder's entries by `readdir` and the entry types it gives: Foundation's enumerators
/// ask for each entry's attributes, which made the input walk a tenth, and the cache's
/// pruning a twelfth, of the editor's check after an edit.
enum DirectoryEntries {
  struct Entry {
    var name: String
    /// A folder itself, not a symbolic link to one.
    var isDirectory: Bool
  }

  /// The entries of `path` but `.` and `..`, in name order; nil when it cannot be read.
  static func list(_ path: String) -> [Entry]? {
    guard let directory = opendir(path) else { return nil }
    defer { closedir(directory) }
    var entries: [Entry] = []
    while let entry = readdir(directory) {
      let name = withUnsafePointer(to: &entry.pointee.d_name) {
        String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
      }
      guard name != ".", name != ".." else { continue }
      var isDirectory = Int32(entry.pointee.d_type) == Int32(DT_DIR)
      if Int32(entry.pointee.d_type) == Int32(DT_UNKNOWN) {
        // Some file systems do not say: ask, without following a link.
        var status = stat()
        isDirectory = lstat(path + "/" + name, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
      }
      entries.append(Entry(name: name, isDirectory: isDirectory))
    }
    return entries.sorted { $0.name < $1.name }
  }
}
