import CClang
import ForkGuardCore
import Foundation
import Synchronization

/// Precompiled prefix headers shared by the files of one run.
///
/// Most of a C file's parse is its headers, and in a project most files open with the same
/// one (`#include "cache.h"` in git, `"postgres.h"` in PostgreSQL): clang reads the same
/// few hundred kilobytes of declarations again for every file. A file whose very first
/// line of code is `#include "H"` (nothing before it, so no macro it defines can change H)
/// parses the same with H precompiled once and loaded with `-include-pch`: H's include
/// guard makes the file's own `#include` a no-op. A PCH is made for H and a set of flags
/// once a second file asks for it, and only from a header that parses without errors and
/// is guarded; anything else parses as before.
public final class PrefixHeaders: Sendable {
  /// What a file parses with instead of reading its first header.
  public struct Prefix: Sendable {
    public var precompiledHeader: String
    /// The header and every file it includes: libclang does not list a PCH's files among a
    /// unit's inclusions, and the facts' dependencies must name them.
    public var inclusions: [String]
    /// What walking the header's declarations collected.
    var collected: CFactExtractor.Collected
  }

  private struct Key: Hashable {
    var header: String
    var arguments: [String]
  }

  private enum State {
    case wanted
    case building
    case built(Prefix)
    case unusable
  }

  private struct Table {
    var states: [Key: State] = [:]
    var directory: String?
    var count = 0
  }

  private let table = Mutex(Table())

  public init() {}

  /// How many precompiled headers the run made (for `--timings` and tests).
  public var builtCount: Int {
    table.withLock { table in
      table.states.values.filter {
        if case .built = $0 { return true }
        return false
      }.count
    }
  }

  deinit {
    if let directory = table.withLock({ $0.directory }) {
      try? FileManager.default.removeItem(atPath: directory)
    }
  }

  /// The prefix `file` may parse with, building it when this is the second file to want
  /// it; nil when the file parses on its own.
  func prefix(for file: String, arguments: [String], index: CXIndex, knowledge: Knowledge) -> Prefix? {
    guard Self.acceptsPrefix(arguments),
      let content = FileManager.default.contents(atPath: file),
      let name = Self.leadingQuotedInclude(in: content),
      let header = Self.resolve(name, includedFrom: file, arguments: arguments)
    else { return nil }
    let key = Key(header: header, arguments: arguments)
    let shouldBuild: Bool = table.withLock { table in
      switch table.states[key] {
      case nil:
        table.states[key] = .wanted
        return false
      case .wanted:
        table.states[key] = .building
        return true
      default:
        return false
      }
    }
    if shouldBuild {
      let built = build(header: header, arguments: arguments, index: index, knowledge: knowledge)
      table.withLock { $0.states[key] = built.map(State.built) ?? .unusable }
      return built
    }
    return table.withLock { table in
      if case .built(let prefix) = table.states[key] { return prefix }
      return nil
    }
  }

  private func build(header: String, arguments: [String], index: CXIndex, knowledge: Knowledge) -> Prefix? {
    var unit: CXTranslationUnit?
    let options = CXTranslationUnit_Incomplete.rawValue | CXTranslationUnit_ForSerialization.rawValue
    let error = CFrontEnd.parse(
      header, arguments: arguments + ["-x", "c-header"], unsaved: [:], index: index, options: options,
      into: &unit, keepGoing: false)
    guard error == CXError_Success, let unit else { return nil }
    defer { clang_disposeTranslationUnit(unit) }
    for position in 0..<clang_getNumDiagnostics(unit) {
      let diagnostic = clang_getDiagnostic(unit, position)
      defer { clang_disposeDiagnostic(diagnostic) }
      let severity = clang_getDiagnosticSeverity(diagnostic)
      if severity == CXDiagnostic_Error || severity == CXDiagnostic_Fatal { return nil }
    }
    guard let file = clang_getFile(unit, header), clang_isFileMultipleIncludeGuarded(unit, file) != 0,
      let path = nextPath()
    else { return nil }
    guard clang_saveTranslationUnit(unit, path, clang_defaultSaveOptions(unit)) == 0 else { return nil }
    let inclusions = Set(CFrontEnd.inclusions(of: unit)).union([header]).sorted()
    let extractor = CFactExtractor(knowledge: knowledge, mainFile: header, names: FileNames())
    MacroLines.during { extractor.extract(from: Cursor(clang_getTranslationUnitCursor(unit))) }
    return Prefix(precompiledHeader: path, inclusions: inclusions, collected: extractor.collected)
  }

  private func nextPath() -> String? {
    table.withLock { table in
      if table.directory == nil {
        let directory = NSTemporaryDirectory() + "forkguard-prefix-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)) != nil
        else { return nil }
        table.directory = directory
      }
      table.count += 1
      return table.directory! + "/\(table.count).pch"
    }
  }

  /// Flags a prefix cannot be added to: another PCH, or a language other than C.
  static func acceptsPrefix(_ arguments: [String]) -> Bool {
    var position = 0
    while position < arguments.count {
      let flag = arguments[position]
      if flag == "-include-pch" || flag.hasPrefix("-include-pch=") { return false }
      if flag == "-x", position + 1 < arguments.count, arguments[position + 1] != "c" { return false }
      if flag.hasPrefix("-x"), flag.count > 2, flag != "-xc" { return false }
      position += 1
    }
    return true
  }

  /// The name in `#include "name"` when that directive is the file's first code: only
  /// white space and comments before it, and after it on its line.
  static func leadingQuotedInclude(in content: Data) -> String? {
    content.withUnsafeBytes { raw -> String? in
      let bytes = raw.bindMemory(to: UInt8.self)
      var position = 0
      func skipBlanksAndComments(stopAtNewline: Bool) -> Bool {
        while position < bytes.count {
          let byte = bytes[position]
          if byte == UInt8(ascii: "\n") {
            if stopAtNewline { return true }
            position += 1
          } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
            || byte == 0x0C
          {
            position += 1
          } else if byte == UInt8(ascii: "/"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "*") {
            position += 2
            while position + 1 < bytes.count,
              !(bytes[position] == UInt8(ascii: "*") && bytes[position + 1] == UInt8(ascii: "/"))
            {
              position += 1
            }
            guard position + 1 < bytes.count else { return false }
            position += 2
          } else if byte == UInt8(ascii: "/"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "/") {
            while position < bytes.count, bytes[position] != UInt8(ascii: "\n") { position += 1 }
          } else if byte == UInt8(ascii: "\\") {
            return false  // a line continuation: leave such files to clang
          } else {
            return true
          }
        }
        return true
      }
      guard skipBlanksAndComments(stopAtNewline: false), position < bytes.count, bytes[position] == UInt8(ascii: "#")
      else { return nil }
      position += 1
      guard skipBlanksAndComments(stopAtNewline: true) else { return nil }
      let directive = Array("include".utf8)
      guard position + directive.count <= bytes.count,
        Array(bytes[position..<position + directive.count]) == directive
      else { return nil }
      position += directive.count
      guard skipBlanksAndComments(stopAtNewline: true), position < bytes.count, bytes[position] == UInt8(ascii: "\"")
      else { return nil }
      let start = position + 1
      position = start
      while position < bytes.count, bytes[position] != UInt8(ascii: "\""), bytes[position] != UInt8(ascii: "\n") {
        position += 1
      }
      guard position < bytes.count, bytes[position] == UInt8(ascii: "\""), position > start else { return nil }
      let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
      position += 1
      guard skipBlanksAndComments(stopAtNewline: true),
        position == bytes.count || bytes[position] == UInt8(ascii: "\n")
      else { return nil }
      return name
    }
  }

  /// Where clang finds a quoted include: beside the including file, then the `-iquote`
  /// folders, then the `-I` folders. nil when it is not found there (a system header or a
  /// missing one: left to clang).
  static func resolve(_ name: String, includedFrom file: String, arguments: [String]) -> String? {
    let manager = FileManager.default
    if name.hasPrefix("/") { return manager.fileExists(atPath: name) ? name : nil }
    var folders = [(file as NSString).deletingLastPathComponent]
    var quote: [String] = []
    var angled: [String] = []
    for group in CommandLineFlags.groups(arguments) {
      for (flag, list) in [("-iquote", 0), ("-I", 1)] {
        var folder: String?
        if group.count == 2, group[0] == flag {
          folder = group[1]
        } else if group.count == 1, group[0].hasPrefix(flag), group[0].count > flag.count {
          folder = String(group[0].dropFirst(flag.count))
        }
        if let folder {
          if list == 0 { quote.append(folder) } else { angled.append(folder) }
        }
      }
    }
    folders += quote + angled
    for folder in folders {
      let candidate = (folder.hasSuffix("/") ? folder : folder + "/") + name
      var isDirectory: ObjCBool = false
      if manager.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue {
        return candidate
      }
    }
    return nil
  }
}
