import ForkGuardCore
import Foundation

/// Turns addresses from a dead process into functions and source lines, offline, with
/// llvm-symbolizer (or addr2line when it is missing). Never runs in the reporting process.
public final class Symbolizer {
  public struct Frame: Equatable, Sendable {
    public var function: String?
    public var location: SourceLocation?
    public var module: String
    public var offset: UInt64
  }

  private let tool: (path: String, isLLVM: Bool)?
  private var codeCache: [String: Frame] = [:]
  private var dataCache: [String: (name: String, offset: UInt64)?] = [:]
  private var elfTypes: [String: UInt16] = [:]

  public init() {
    tool = Self.findTool()
  }

  public var toolName: String? { tool.map { ($0.path as NSString).lastPathComponent } }

  static func findTool() -> (String, Bool)? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    let directories = path.split(separator: ":").map(String.init)
    for (name, isLLVM) in [("llvm-symbolizer", true), ("llvm-symbolizer-14", true), ("addr2line", false)] {
      for directory in directories where FileManager.default.isExecutableFile(atPath: directory + "/" + name) {
        return (directory + "/" + name, isLLVM)
      }
    }
    return nil
  }

  /// The module and the address inside it that `address` falls in.
  func place(_ address: UInt64, in maps: [MemoryMapping]) -> (module: String, offset: UInt64)? {
    guard let mapping = maps.first(where: { $0.start <= address && address < $0.end }) else { return nil }
    // Position-independent modules are symbolized by offset from their load base; a fixed
    // executable (ET_EXEC) by its absolute address.
    if elfType(mapping.path) == 2 { return (mapping.path, address) }
    // The load base is where the module's first page (file offset 0) is mapped: its first
    // segment has virtual address 0, and later segments keep their distance from it.
    let base =
      maps.filter { $0.path == mapping.path && $0.offset == 0 }.map(\.start).min()
      ?? (mapping.start - mapping.offset)
    return (mapping.path, address - base)
  }

  private func elfType(_ path: String) -> UInt16 {
    if let known = elfTypes[path] { return known }
    var type: UInt16 = 3
    if let handle = FileHandle(forReadingAtPath: path) {
      let header = handle.readData(ofLength: 18)
      if header.count == 18, header.starts(with: [0x7f, 0x45, 0x4c, 0x46]) {
        type = UInt16(header[16]) | UInt16(header[17]) << 8
      }
      try? handle.close()
    }
    elfTypes[path] = type
    return type
  }

  /// The call site of a return address (the instruction before it).
  public func callSite(_ returnAddress: UInt64, in maps: [MemoryMapping]) -> Frame? {
    code(returnAddress &- 1, in: maps)
  }

  public func code(_ address: UInt64, in maps: [MemoryMapping]) -> Frame? {
    guard let (module, offset) = place(address, in: maps) else { return nil }
    let key = "\(module)@\(offset)"
    if let cached = codeCache[key] { return cached }
    var frame = Frame(function: nil, location: nil, module: module, offset: offset)
    if let lines = query(module: module, offset: offset, data: false), !lines.isEmpty {
      frame.function = lines[0] == "??" ? nil : lines[0]
      if lines.count > 1 { frame.location = Self.location(lines[1]) }
    }
    codeCache[key] = frame
    return frame
  }

  /// The global variable an address belongs to, and how far into it.
  public func data(_ address: UInt64, in maps: [MemoryMapping]) -> (name: String, offset: UInt64)? {
    guard let tool, tool.isLLVM, let (module, offset) = place(address, in: maps) else { return nil }
    let key = "\(module)@\(offset)"
    if let cached = dataCache[key] { return cached }
    var result: (String, UInt64)?
    if let lines = query(module: module, offset: offset, data: true), lines.count >= 2, lines[0] != "??" {
      let start = lines[1].split(separator: " ").first.flatMap { UInt64($0) } ?? offset
      result = (lines[0], offset >= start ? offset - start : 0)
    }
    dataCache[key] = result
    return result
  }

  /// `file:line:column` (column may be 0 or absent).
  static func location(_ text: String) -> SourceLocation? {
    let parts = text.split(separator: ":")
    guard parts.count >= 2, !parts[0].hasPrefix("??") else { return nil }
    let numbers = parts.suffix(2).compactMap { Int($0) }
    if numbers.count == 2, parts.count >= 3 {
      let file = parts.dropLast(2).joined(separator: ":")
      return numbers[0] > 0 ? SourceLocation(file: file, line: numbers[0], column: max(numbers[1], 1)) : nil
    }
    guard let line = Int(parts.last!.split(separator: " ").first ?? ""), line > 0 else { return nil }
    return SourceLocation(file: parts.dropLast().joined(separator: ":"), line: line, column: 1)
  }

  private func query(module: String, offset: UInt64, data: Bool) -> [String]? {
    guard let tool else { return nil }
    let hex = "0x" + String(offset, radix: 16)
    let arguments =
      tool.isLLVM
      ? ["--no-inlines", "--obj=\(module)", data ? "DATA \(hex)" : hex]
      : ["-f", "-C", "-e", module, hex]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool.path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    let bytes = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
  }
}
