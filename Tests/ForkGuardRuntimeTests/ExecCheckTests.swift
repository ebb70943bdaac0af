import CForkGuardExec
import ForkGuardTestSupport
import Foundation
import Testing

/// fg_exec_check.c: which programs will not load the preload library, on real files of
/// this machine and on ELF headers built here.
@Suite("Exec check")
struct ExecCheckTests {
  static let directory = Scratch.root.appendingPathComponent(
    "forkguard-exec-check-\(ProcessInfo.processInfo.processIdentifier)")

  func problem(_ path: String, environment: [String]? = nil, library: String? = nil) -> String {
    let verdict: Int32
    if let environment {
      let envp = environment.map { strdup($0) } + [nil]
      defer { envp.forEach { free($0) } }
      verdict = fg_exec_problem(path, envp, library)
    } else {
      verdict = fg_exec_problem(path, nil, library)
    }
    return String(cString: fg_exec_problem_name(verdict))
  }

  func write(_ name: String, _ bytes: [UInt8], mode: mode_t = 0o755) throws -> String {
    try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
    let path = Self.directory.appendingPathComponent(name).path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    chmod(path, mode)
    return path
  }

  /// A minimal ELF64 little-endian executable header with the given program headers
  /// (type, file offset, size) and `extra` bytes after them.
  func elf(_ headers: [(UInt32, UInt64, UInt64)], extra: [UInt8] = []) -> [UInt8] {
    func little(_ value: UInt64, _ size: Int) -> [UInt8] {
      (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
    var bytes: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
    bytes += little(3, 2) + little(62, 2) + little(1, 4)  // ET_DYN, x86-64, version
    bytes += little(0, 8) + little(64, 8) + little(0, 8)  // entry, phoff, shoff
    bytes += little(0, 4) + little(64, 2) + little(56, 2) + little(UInt64(headers.count), 2)
    bytes += little(64, 2) + little(0, 2) + little(0, 2)
    for (type, offset, size) in headers {
      bytes += little(UInt64(type), 4) + little(4, 4) + little(offset, 8) + little(0, 8) + little(0, 8)
      bytes += little(size, 8) + little(size, 8) + little(8, 8)
    }
    return bytes + extra
  }

  @Test func dynamicProgramsAndScriptsAreInstrumented() throws {
    #expect(problem("/bin/true") == "instrumented")
    #expect(problem(try write("script", Array("#!/bin/sh\ntrue\n".utf8))) == "instrumented")
    // Not ELF, not there: not guessed at.
    #expect(problem(try write("data", Array("plain text".utf8))) == "instrumented")
    #expect(problem(Self.directory.appendingPathComponent("missing").path) == "instrumented")
  }

  @Test func staticProgramsAndTheirScriptsAreNot() throws {
    // Debian's ldconfig is static-pie: no PT_INTERP.
    #expect(problem("/sbin/ldconfig") == "static")
    #expect(problem(try write("static-script", Array("#! /sbin/ldconfig -p\n".utf8))) == "static")
    #expect(problem(try write("no-interpreter", elf([(1, 0, 0)]))) == "static")
    // The loader itself, run as a program, does load LD_PRELOAD.
    let loader = try #require(
      ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"].first { FileManager.default.fileExists(atPath: $0) }
    )
    #expect(problem(loader) == "instrumented")
  }

  @Test func goProgramsAreRecognisedByTheirBuildIDNote() throws {
    // A PT_NOTE at offset 176 (after two headers) holding "Go\0" type 4.
    var note: [UInt8] = [3, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0] + Array("Go\0\0".utf8) + Array("abcd".utf8)
    let go = elf([(3, 0, 0), (4, 176, UInt64(note.count))], extra: note)
    #expect(problem(try write("go-program", go)) == "go")
    note[12] = UInt8(ascii: "N")  // another vendor's note
    let other = elf([(3, 0, 0), (4, 176, UInt64(note.count))], extra: note)
    #expect(problem(try write("noted-program", other)) == "instrumented")
  }

  @Test func setUserIDToAnotherUserIsNot() throws {
    let path = try write("setuid", elf([(3, 0, 0)]), mode: 0o4755)
    chmod(path, 0o4755)
    // Owned by the effective user, the exec is not secure; owned by another user, it is.
    #expect(problem(path) == "instrumented")
    if geteuid() == 0 {
      chown(path, 65534, 65534)
      chmod(path, 0o4755)
      #expect(problem(path) == "setuid")
      chmod(path, 0o2755)
      #expect(problem(path) == "setgid")
    }
  }

  @Test func environmentWithoutTheLibraryIsReported() {
    let library = "/usr/lib/forkguard/libforkguard-preload.so"
    #expect(problem("/bin/true", environment: ["PATH=/bin"], library: library) == "preload-removed")
    #expect(problem("/bin/true", environment: ["LD_PRELOAD=/other.so"], library: library) == "preload-removed")
    #expect(
      problem("/bin/true", environment: ["LD_PRELOAD=/a.so:\(library) /b.so"], library: library) == "instrumented")
    #expect(problem("/bin/true", environment: ["LD_PRELOAD=\(library)x"], library: library) == "preload-removed")
    // A static program is said first: its environment does not matter.
    #expect(problem("/sbin/ldconfig", environment: [], library: library) == "static")
  }
}
