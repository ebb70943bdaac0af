import Foundation

/// What build of forkguard is running: the GNU build ID the linker wrote into the executable
/// (a hash of its contents), read from the program's own notes in memory. The facts cache
/// keys on it, so a rebuilt front end never serves facts an older build extracted: the hand
/// bumped `FactsCache.schema` guards only the changes someone remembered to mark.
public enum BuildIdentity {
  /// `build-id:<hex>`, or, for an executable linked without one, its path, size and
  /// modification time (a rebuild changes them too).
  public static let current: String = buildID().map { "build-id:" + $0 } ?? executableStamp()

  /// The NT_GNU_BUILD_ID note of the main program, found through the program headers the
  /// kernel passed it (AT_PHDR and AT_PHNUM in /proc/self/auxv; the load base is where
  /// PT_PHDR says the table itself is).
  static func buildID() -> String? {
    guard let auxv = FileHandle(forReadingAtPath: "/proc/self/auxv")?.readDataToEndOfFile() else { return nil }
    var table: UInt = 0
    var count = 0
    auxv.withUnsafeBytes { raw in
      for pair in stride(from: 0, to: raw.count - 15, by: 16) {
        let type = raw.loadUnaligned(fromByteOffset: pair, as: UInt64.self)
        let value = raw.loadUnaligned(fromByteOffset: pair + 8, as: UInt64.self)
        if type == 3 { table = UInt(value) }  // AT_PHDR
        if type == 5 { count = Int(value) }  // AT_PHNUM
      }
    }
    guard table != 0, count > 0, let headers = UnsafePointer<Elf64_Phdr>(bitPattern: table) else { return nil }
    let all = UnsafeBufferPointer(start: headers, count: count)
    guard let self_ = all.first(where: { $0.p_type == UInt32(PT_PHDR) }) else { return nil }
    let base = table &- UInt(self_.p_vaddr)
    for header in all where header.p_type == UInt32(PT_NOTE) {
      guard let start = UnsafeRawPointer(bitPattern: base &+ UInt(header.p_vaddr)) else { continue }
      if let id = gnuBuildID(in: UnsafeRawBufferPointer(start: start, count: Int(header.p_memsz))) { return id }
    }
    return nil
  }

  /// Walks one note segment: 4-byte name size, descriptor size and type, then the padded
  /// name and descriptor.
  static func gnuBuildID(in notes: UnsafeRawBufferPointer) -> String? {
    var offset = 0
    func word(_ at: Int) -> Int { Int(notes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    while offset + 12 <= notes.count {
      let nameSize = word(offset)
      let descriptorSize = word(offset + 4)
      let type = word(offset + 8)
      let name = offset + 12
      let descriptor = name + (nameSize + 3) & ~3
      guard descriptor + descriptorSize <= notes.count else { return nil }
      if type == 3, nameSize == 4, notes[name] == 0x47, notes[name + 1] == 0x4e, notes[name + 2] == 0x55 {
        return notes[descriptor..<(descriptor + descriptorSize)].map { String(format: "%02x", $0) }.joined()
      }
      offset = descriptor + (descriptorSize + 3) & ~3
    }
    return nil
  }

  static func executableStamp() -> String {
    let path =
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let attributes = try? FileManager.default.attributesOfItem(atPath: path)
    let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
    let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
    return "executable:\(path)|\(size)|\(modified)"
  }
}
