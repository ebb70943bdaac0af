import CClang
import ForkGuardCore
import Foundation
import Synchronization

/// Precompiled prefixes shared by the files of one run.
///
/// Most of a C file's parse is its headers, and the files of a folder mostly open the same
/// way (`#include "cache.h"` in git, `#include <config.h>` then the project's header in
/// dbus, the same few system headers in util-linux): clang reads the same declarations again
/// for every file. A file's *leading directives* are the `#include`, `#define` and `#undef`
/// lines before anything else (comments and blank lines aside). The longest run of them
/// that another file of the same folder, parsed with the same flags, opens with too is
/// precompiled once, from a header that repeats those lines (quoted includes by the path
/// clang would find), and loaded with `-include-pch`: each header it includes directly
/// must have an include guard, so the file's own `#include` lines are then no-ops, and its
/// `#define`s repeat the same definitions. A PCH is made once a second file asks for it,
/// only when its header parses without errors; it ends before the first header without a
/// guard (`<assert.h>`). Anything else parses as before.
public final class PrefixHeaders: Sendable {
  /// What a file parses with instead of reading its leading headers.
  public struct Prefix: Sendable {
    public var precompiledHeader: String
    /// Every file the prefix includes: libclang does not list a PCH's files among a unit's
    /// inclusions, and the facts' dependencies must name them.
    public var inclusions: [String]
    /// What walking the prefix's declarations collected.
    var collected: CFactExtractor.Collected
  }

  /// One leading directive, as written less comments and repeated white space.
  enum Directive: Hashable {
    case quoted(String)
    case angled(String)
    case definition(String)
  }

  private struct Key: Hashable {
    var folder: String
    var arguments: [String]
    var directives: [Directive]
  }

  private enum State {
    case wanted
    case building
    case built(Prefix)
    case unusable
  }

  private struct Opening {
    var arguments: [String]
    var directives: [Directive]
  }

  private struct Group: Hashable {
    var folder: String
    var arguments: [String]
  }

  private struct Table {
    var states: [Key: State] = [:]
    /// Directive runs whose header had an error (a missing `config.h`), by folder and
    /// flags: a prefix that starts with one has it too, and is not made.
    var failing: [Group: [[Directive]]] = [:]
    /// The leading directives of the run's C files, by folder, read when a file of the
    /// folder first asks.
    var openings: [String: [String: Opening]] = [:]
    var directory: String?
    var count = 0
  }

  private let table = Mutex(Table())
  private let filesByFolder: [String: [String]]
  private let arguments: @Sendable (String) -> [String]

  /// - Parameters:
  ///   - files: the run's files; a prefix is shared among those of one folder.
  ///   - arguments: each file's flags.
  public init(files: [String], arguments: @escaping @Sendable (String) -> [String]) {
    filesByFolder = Dictionary(grouping: files.filter { $0.hasSuffix(".c") }) {
      ($0 as NSString).deletingLastPathComponent
    }
    self.arguments = arguments
  }

  /// How many precompiled prefixes the run made (for `--timings` and tests).
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
    guard Self.acceptsPrefix(arguments) else { return nil }
    let folder = (file as NSString).deletingLastPathComponent
    let openings = openings(in: folder)
    guard let own = openings[file], own.arguments == arguments else { return nil }
    let length = Self.sharedLength(of: own, among: openings.filter { $0.key != file }.map(\.value))
    guard length > 0 else { return nil }
    let key = Key(folder: folder, arguments: arguments, directives: Array(own.directives.prefix(length)))
    let group = Group(folder: folder, arguments: arguments)
    let shouldBuild: Bool = table.withLock { table in
      if table.failing[group, default: []].contains(where: { key.directives.starts(with: $0) }) { return false }
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
      let built = build(key.directives, includedFrom: file, arguments: arguments, index: index, knowledge: knowledge)
      table.withLock { table in
        switch built {
        case .success(let prefix):
          table.states[key] = .built(prefix)
        case .failure(let failure):
          table.states[key] = .unusable
          if let line = failure.line {
            table.failing[group, default: []].append(Array(key.directives.prefix(line + 1)))
          }
        }
      }
      return try? built.get()
    }
    return table.withLock { table in
      if case .built(let prefix) = table.states[key] { return prefix }
      return nil
    }
  }

  private func openings(in folder: String) -> [String: Opening] {
    if let known = table.withLock({ $0.openings[folder] }) { return known }
    var found: [String: Opening] = [:]
    for file in filesByFolder[folder] ?? [] {
      guard let content = FileManager.default.contents(atPath: file) else { continue }
      let directives = Self.leadingDirectives(in: content)
      if !directives.isEmpty { found[file] = Opening(arguments: arguments(file), directives: directives) }
    }
    table.withLock { $0.openings[folder] = found }
    return found
  }

  /// How many of `own`'s leading directives to precompile: of the runs it shares with other
  /// files of its folder parsed with the same flags, the one that saves the most reading,
  /// counted as the headers it includes times the other files that open with it (a long
  /// run shared by two files would be made, at the cost of a parse, for little).
  private static func sharedLength(of own: Opening, among others: [Opening]) -> Int {
    var sharing = Array(repeating: 0, count: own.directives.count + 1)
    for other in others where other.arguments == own.arguments {
      var length = 0
      while length < own.directives.count, length < other.directives.count,
        own.directives[length] == other.directives[length]
      {
        length += 1
      }
      sharing[length] += 1
    }
    // Files sharing at least `length` directives.
    for length in stride(from: own.directives.count - 1, through: 0, by: -1) { sharing[length] += sharing[length + 1] }
    var best = (length: 0, saved: 0)
    var includes = 0
    for length in 1...max(1, own.directives.count) where length <= own.directives.count {
      if case .definition = own.directives[length - 1] {} else { includes += 1 }
      let saved = includes * sharing[length]
      if sharing[length] > 0, saved >= best.saved, saved > 0 { best = (length, saved) }
    }
    return best.length
  }

  /// Why a prefix was not made: the directive (by line) under which its header's first
  /// error is, when it had one.
  private struct Failure: Error {
    var line: Int?
  }

  /// Precompiles `directives`, or the part of them before the first header without an
  /// include guard.
  private func build(
    _ directives: [Directive], includedFrom file: String, arguments: [String], index: CXIndex, knowledge: Knowledge
  ) -> Result<Prefix, Failure> {
    var lines: [String] = []
    for directive in directives {
      switch directive {
      case .quoted(let name):
        guard let path = Self.resolve(name, includedFrom: file, arguments: arguments) else {
          return .failure(Failure(line: lines.count))
        }
        lines.append("#include \"\(path)\"")
      case .angled(let name):
        lines.append("#include <\(name)>")
      case .definition(let text):
        lines.append(text)
      }
    }
    while !lines.isEmpty {
      switch precompile(lines, arguments: arguments, index: index, knowledge: knowledge) {
      case .built(let prefix): return .success(prefix)
      case .unguarded(let line):
        guard line < lines.count else { return .failure(Failure(line: nil)) }
        lines = Array(lines.prefix(line))
      case .failed(let line): return .failure(Failure(line: line))
      }
    }
    return .failure(Failure(line: nil))
  }

  private enum Precompiled {
    case built(Prefix)
    /// The header included on this line (0-based) has no guard.
    case unguarded(line: Int)
    /// An error, under the directive on this line when it is known.
    case failed(line: Int?)
  }

  private func precompile(_ lines: [String], arguments: [String], index: CXIndex, knowledge: Knowledge) -> Precompiled {
    guard let (pch, header) = nextPaths(),
      (try? (lines.joined(separator: "\n") + "\n").write(toFile: header, atomically: false, encoding: .utf8)) != nil
    else { return .failed(line: nil) }
    var unit: CXTranslationUnit?
    let options = CXTranslationUnit_Incomplete.rawValue | CXTranslationUnit_ForSerialization.rawValue
    let error = CFrontEnd.parse(
      header, arguments: arguments + ["-x", "c-header"], unsaved: [:], index: index, options: options,
      into: &unit, keepGoing: false)
    guard error == CXError_Success, let unit else { return .failed(line: nil) }
    defer { clang_disposeTranslationUnit(unit) }
    let directLines = Self.directIncludeLines(of: unit, header: header)
    if let error = CFrontEnd.errors(of: unit).first {
      var file: CXFile?
      var line: UInt32 = 0
      clang_getSpellingLocation(error.location, &file, &line, nil, nil)
      guard let file else { return .failed(line: nil) }
      let name = clang_getFileName(file).consume()
      return .failed(line: name == header ? Int(line) - 1 : directLines.lines[name])
    }
    if let line = directLines.unguarded.min() { return .unguarded(line: line) }
    guard clang_saveTranslationUnit(unit, pch, clang_defaultSaveOptions(unit)) == 0 else {
      return .failed(line: nil)
    }
    let inclusions = Set(CFrontEnd.inclusions(of: unit).map(CFrontEnd.plainPath)).subtracting([header]).sorted()
    let extractor = CFactExtractor(knowledge: knowledge, mainFile: header, names: FileNames())
    MacroLines.during { extractor.extract(from: Cursor(clang_getTranslationUnitCursor(unit))) }
    return .built(Prefix(precompiledHeader: pch, inclusions: inclusions, collected: extractor.collected))
  }

  /// For every file the unit includes, the line (0-based) of the main file's `#include`
  /// under which it is read; and the lines whose header has no include guard (the file's
  /// own `#include` of it would read it again). Headers `-include` adds are not the main
  /// file's: the file's own parse reads them first as well.
  private static func directIncludeLines(of unit: CXTranslationUnit, header: String)
    -> (lines: [String: Int], unguarded: [Int])
  {
    final class Box {
      var lines: [String: Int] = [:]
      var unguarded: [Int] = []
      var main: CXFile?
      var unit: CXTranslationUnit?
    }
    let box = Box()
    box.main = clang_getFile(unit, header)
    box.unit = unit
    clang_getInclusions(
      unit,
      { file, stack, depth, context in
        guard let file, depth >= 1, let stack else { return }
        let box = Unmanaged<Box>.fromOpaque(context!).takeUnretainedValue()
        // The outermost `#include`: in the main file, or in what `-include` added.
        var includer: CXFile?
        var line: UInt32 = 0
        clang_getSpellingLocation(stack[Int(depth) - 1], &includer, &line, nil, nil)
        guard let includer, let main = box.main, clang_File_isEqual(includer, main) != 0 else { return }
        box.lines[clang_getFileName(file).consume()] = Int(line) - 1
        if depth == 1, clang_isFileMultipleIncludeGuarded(box.unit, file) == 0 { box.unguarded.append(Int(line) - 1) }
      }, Unmanaged.passUnretained(box).toOpaque())
    return (box.lines, box.unguarded)
  }

  private func nextPaths() -> (pch: String, header: String)? {
    table.withLock { table in
      if table.directory == nil {
        Self.removeLeftovers()
        let directory = NSTemporaryDirectory() + "forkguard-prefix-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)) != nil
        else { return nil }
        table.directory = directory
      }
      table.count += 1
      return (table.directory! + "/\(table.count).pch", table.directory! + "/\(table.count).h")
    }
  }

  /// The folders of runs that were killed before they could remove theirs (a PCH is
  /// megabytes): named by their process, gone.
  private static func removeLeftovers() {
    let temporary = NSTemporaryDirectory()
    for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
    where name.hasPrefix("forkguard-prefix-") {
      let parts = name.split(separator: "-")
      guard parts.count == 4, let process = Int32(parts[2]), process != getpid(),
        kill(process, 0) == -1, errno == ESRCH
      else { continue }
      try? FileManager.default.removeItem(atPath: temporary + "/" + name)
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

  /// The `#include`, `#define` and `#undef` lines a file opens with, before any other line
  /// but blank ones and comments. A directive continued onto the next line ends them.
  static func leadingDirectives(in content: Data) -> [Directive] {
    content.withUnsafeBytes { raw -> [Directive] in
      let bytes = raw.bindMemory(to: UInt8.self)
      var position = 0
      var directives: [Directive] = []
      /// One logical line less its comments, or nil at a continued line or an unclosed
      /// comment; `position` moves past its newline.
      func line() -> [UInt8]? {
        var text: [UInt8] = []
        while position < bytes.count {
          let byte = bytes[position]
          if byte == UInt8(ascii: "\n") {
            position += 1
            return text
          } else if byte == UInt8(ascii: "\\") {
            return nil
          } else if byte == UInt8(ascii: "/"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "*") {
            position += 2
            while position + 1 < bytes.count,
              !(bytes[position] == UInt8(ascii: "*") && bytes[position + 1] == UInt8(ascii: "/"))
            {
              position += 1
            }
            guard position + 1 < bytes.count else { return nil }
            position += 2
            text.append(UInt8(ascii: " "))
          } else if byte == UInt8(ascii: "/"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "/") {
            while position < bytes.count, bytes[position] != UInt8(ascii: "\n") { position += 1 }
          } else {
            text.append(
              byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == 0x0C ? UInt8(ascii: " ") : byte)
            position += 1
          }
        }
        return text
      }
      while position < bytes.count, let text = line() {
        let words = String(decoding: text, as: UTF8.self).split(separator: " ", omittingEmptySubsequences: true)
        guard let first = words.first else { continue }
        guard first.hasPrefix("#") else { break }
        // `#include`, `# include`.
        let name = first == "#" ? (words.count > 1 ? words[1] : "") : first.dropFirst()
        let rest = words.dropFirst(first == "#" ? 2 : 1).joined(separator: " ")
        if name == "include" {
          if rest.count > 2, rest.hasPrefix("\""), rest.hasSuffix("\""), !rest.dropFirst().dropLast().contains("\"") {
            directives.append(.quoted(String(rest.dropFirst().dropLast())))
          } else if rest.count > 2, rest.hasPrefix("<"), rest.hasSuffix(">"), !rest.dropFirst().dropLast().contains(">")
          {
            directives.append(.angled(String(rest.dropFirst().dropLast())))
          } else {
            break
          }
        } else if name == "define" || name == "undef", !rest.isEmpty,
          // A literal could hide `//` or `/*`, which the reading above took for a comment.
          !rest.contains("\""), !rest.contains("'")
        {
          directives.append(.definition("#\(name) \(rest)"))
        } else {
          break
        }
      }
      return directives
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
      var candidate = (folder.hasSuffix("/") ? folder : folder + "/") + name
      // The prefix's header lives elsewhere: a relative `-I` (given after `--`) is the
      // working directory's.
      if !candidate.hasPrefix("/") { candidate = manager.currentDirectoryPath + "/" + candidate }
      var isDirectory: ObjCBool = false
      if manager.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue {
        return candidate
      }
    }
    return nil
  }
}
