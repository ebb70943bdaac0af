import Foundation
import Testing

@testable import ForkGuardDriver

/// The facts cache keys on the running build: the linker's build ID, read from memory.
@Suite("Build identity")
struct BuildIdentityTests {
  @Test func isTheBuildIDReadelfShowsForThisExecutable() throws {
    let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let readelf = Process()
    readelf.executableURL = URL(fileURLWithPath: "/usr/bin/readelf")
    readelf.arguments = ["-n", executable]
    let pipe = Pipe()
    readelf.standardOutput = pipe
    try readelf.run()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    readelf.waitUntilExit()
    let line = text.split(separator: "\n").first { $0.contains("Build ID:") }
    let expected = line.map { String($0.split(separator: " ").last!) }
    if let expected {
      #expect(BuildIdentity.current == "build-id:" + expected)
    } else {
      #expect(BuildIdentity.current.hasPrefix("executable:\(executable)|"))
    }
  }

  @Test func findsTheGNUNoteAmongOthers() {
    func note(_ name: [UInt8], type: UInt32, _ descriptor: [UInt8]) -> [UInt8] {
      func word(_ value: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(value).littleEndian, Array.init) }
      let pad = { (bytes: [UInt8]) in bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4) }
      return word(name.count) + word(descriptor.count) + word(Int(type)) + pad(name) + pad(descriptor)
    }
    let bytes =
      note(Array("Go\0".utf8), type: 4, [1, 2, 3, 4, 5]) + note(Array("GNU\0".utf8), type: 1, [0, 0, 0, 0])
      + note(Array("GNU\0".utf8), type: 3, [0xde, 0xad, 0xbe, 0xef, 0x01])
    let id = bytes.withUnsafeBytes { BuildIdentity.gnuBuildID(in: $0) }
    #expect(id == "deadbeef01")
    let truncated = Array(bytes.dropLast(6))
    #expect(truncated.withUnsafeBytes { BuildIdentity.gnuBuildID(in: $0) } == nil)
  }
}
