import ForkGuardCore
import ForkGuardDriver
import ForkGuardTestSupport
import Foundation
import Testing

/// The facts cache and shard files are read back from disk, where they can be truncated or
/// corrupted: the decoder refuses such bytes, it never crashes or allocates without bound.
/// (The fuzz harness `facts-decoder` found the unbounded allocation these tests pin.)
@Suite("Corrupt facts")
struct CorruptFactsTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// The real facts of a few fixtures, as a shard writes them.
  static func encodedFixtures() throws -> Data {
    let output = Scratch.root.appendingPathComponent("fg-facts-\(UUID().uuidString)")
    var options = CheckRun.Options(
      paths: [
        "fixtures/signal-handler-unsafe-call/registration-wrapper.c",
        "fixtures/lock-held-across-fork/conditional-lock-wrapper.c",
        "fixtures/signal-handler-unsafe-call/swift-collections-properties-and-locks.swift",
      ], base: root.path)
    options.usesCache = false
    options.writeFactsPath = output.path
    _ = try CheckRun.run(options)
    return try Data(contentsOf: output)
  }

  @Test func everyTruncationIsRefused() throws {
    let data = try Self.encodedFixtures()
    #expect(try FactsCoding.decode(data).count == 3)
    for length in 0..<data.count {
      #expect(throws: (any Error).self) { try FactsCoding.decode(data.prefix(length)) }
    }
  }

  @Test func corruptBytesNeverCrash() throws {
    let data = try Self.encodedFixtures()
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<2_000 {
      var corrupt = data
      for _ in 0..<Int.random(in: 1...4, using: &generator) {
        corrupt[Int.random(in: 4..<corrupt.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
      }
      _ = try? FactsCoding.decode(corrupt)
    }
  }

  /// A count or a length as large as a varint can say: refused before anything is allocated.
  @Test func hugeCountsAreRefused() {
    let magic = Array("FGF4".utf8)
    let huge: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]
    #expect(throws: (any Error).self) { try FactsCoding.decode(Data(magic + huge)) }
    // One file whose path string claims (almost) Int.max bytes.
    #expect(throws: (any Error).self) { try FactsCoding.decode(Data(magic + [1, 0] + huge)) }
    // The fuzzer's input: a file count of 0x434133bff9 followed by text.
    #expect(throws: (any Error).self) {
      try FactsCoding.decode(Data(magic + [0xff, 0xff, 0x96, 0xc8, 0x77] + Array("ork/main/fixtures".utf8)))
    }
  }
}
