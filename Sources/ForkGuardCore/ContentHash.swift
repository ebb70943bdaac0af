import Foundation

/// A 128-bit content hash (two FNV-1a lanes) for cache keys: not cryptographic, but a
/// collision needs two different inputs to agree on both lanes.
public struct ContentHash: Sendable {
  private var first: UInt64 = 0xcbf2_9ce4_8422_2325
  private var second: UInt64 = 0x8422_2325_cbf2_9ce4

  public init() {}

  public mutating func add(_ data: Data) {
    data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
      var a = first
      var b = second
      for byte in bytes {
        a = (a ^ UInt64(byte)) &* 0x100_0000_01b3
        b = (b ^ UInt64(byte)) &* 0x1_0000_0000_01b3 &+ 0x9e37_79b9
      }
      first = a
      second = b
    }
    // A separator, so that ("ab", "c") and ("a", "bc") differ.
    first = (first ^ 0xff) &* 0x100_0000_01b3
    second = (second ^ 0xfe) &* 0x1_0000_0000_01b3
  }

  public mutating func add(_ text: String) { add(Data(text.utf8)) }

  public var hex: String {
    String(format: "%016llx%016llx", first, second)
  }
}

extension ContentHash {
  /// The hash of what is at `path`: a file's bytes, or a folder's sorted entry names (so a
  /// header created in an include folder changes it); nil when neither can be read.
  public static func of(path: String) -> String? {
    var hash = ContentHash()
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
    if isDirectory.boolValue {
      guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return nil }
      hash.add("folder")
      for name in names.sorted() { hash.add(name) }
    } else {
      guard let data = FileManager.default.contents(atPath: path) else { return nil }
      hash.add(data)
    }
    return hash.hex
  }
}
