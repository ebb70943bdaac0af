import Foundation

/// The folder every test's scratch files go under: one per test process, removed when the
/// process exits. Folders made straight in the temporary directory were never removed, and
/// a few runs of the suite left thousands of them behind.
public enum Scratch {
  public static let root: URL = {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent(
      "forkguard-tests-\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true)
    try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: Scratch.root) }
    return root
  }()
}
