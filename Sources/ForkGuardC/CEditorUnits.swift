import CClang
import ForkGuardCore
import Foundation

/// The language server's open C files, each kept as a translation unit with a precompiled
/// preamble (its headers, parsed once), so that an edit below the includes re-parses only
/// the file's own text: on openssh's sshd.c, 0.03 s against 0.13-0.16 s for a fresh parse.
/// An edit that changes the preamble (the includes, or anything above them) makes libclang
/// build it again, and libclang also rebuilds it when a header it read has changed on disk.
///
/// Used from the parse workers one at a time (a lock): a translation unit is not shared
/// between threads at once.
public final class CEditorUnits: @unchecked Sendable {
  private struct Entry {
    var arguments: [String]
    var unit: CXTranslationUnit
    var lastUse: Int
    /// The text's leading directives and comments, which the preamble holds.
    var preamble: [UInt8]
    /// The facts of the last parse and what they were made from. One check can ask twice
    /// for the same text (its run record's replay, when that fails, then the whole run):
    /// the second is answered from here, not by parsing again.
    var made: Made? = nil
    /// The files the unit included as the last parse listed them: a re-parse on the same
    /// preamble (no include below it) includes the same ones while no header has changed.
    var inclusions: Inclusions? = nil
  }

  private struct Inclusions {
    var files: [String]
    /// Each file's stamp after the parse that listed it (the main file's is not kept: its
    /// text is the editor's buffer).
    var stamps: [String: FileStamp?]

    /// Nil when a header changed lately: it may have changed while it was parsed.
    init?(_ files: [String], of file: String, since started: Int) {
      self.files = files
      stamps = Dictionary(
        files.lazy.filter { $0 != file }.map { ($0, FileStamp($0)) }, uniquingKeysWith: { first, _ in first })
      if stamps.values.contains(where: { ($0?.modified ?? 0) >= started - 1_000_000_000 }) { return nil }
    }

    var unchanged: Bool { stamps.allSatisfy { FileStamp($0.key) == $0.value } }
  }

  private struct Made {
    var unsaved: [String: String]
    /// The headers the parse read, stamped after it; kept only when none had changed
    /// lately, so a header edited while it was parsed is not taken for the same.
    var dependencies: [String: FileStamp?]
    var facts: FileFacts
  }

  /// An edit that changed the preamble is parsed afresh, without one: libclang would build
  /// the preamble again (0.3 s on sshd.c, twice a plain parse), and typing at the top of a
  /// file changes it at every keystroke. The unit is kept for the next edit that leaves it.
  private var changedPreamble: [String: [UInt8]] = [:]

  /// Open files beyond this many are dropped, least recently edited first: each unit holds
  /// its AST and preamble in memory.
  public static let capacity = 4

  private let lock = NSLock()
  private var index: CXIndex?
  private var entries: [String: Entry] = [:]
  private var uses = 0
  private var parses = 0
  /// How many times libclang parsed or re-parsed a buffer: what the kept facts save.
  public var parseCount: Int {
    lock.lock()
    defer { lock.unlock() }
    return parses
  }

  public init() {}

  deinit {
    for entry in entries.values { clang_disposeTranslationUnit(entry.unit) }
    if let index { clang_disposeIndex(index) }
  }

  /// The bytes libclang's preamble would cover: blank space, comments and preprocessor
  /// directives (with their continuation lines) before the first other token.
  public static func preamble(of text: String) -> [UInt8] {
    let bytes = Array(text.utf8)
    var index = 0
    var lineStart = true
    while index < bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\n") {
        lineStart = true
        index += 1
      } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") {
        index += 1
      } else if byte == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
        while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
      } else if byte == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "*") {
        index += 2
        while index + 1 < bytes.count, !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/")) {
          index += 1
        }
        index = min(index + 2, bytes.count)
      } else if byte == UInt8(ascii: "#"), lineStart {
        // To the end of the line, past backslash-newlines.
        while index < bytes.count, bytes[index] != UInt8(ascii: "\n") {
          if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") {
            index += 1
          }
          index += 1
        }
      } else {
        break
      }
    }
    return Array(bytes[..<index])
  }

  /// Whether a line after the preamble is an `#include` (or `#import`, `#include_next`).
  public static func includesBelowPreamble(_ text: String, preambleLength: Int) -> Bool {
    let bytes = Array(text.utf8)
    var index = preambleLength
    var atLineStart = true
    while index < bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\n") {
        atLineStart = true
      } else if atLineStart, byte == UInt8(ascii: "#") {
        var next = index + 1
        while next < bytes.count, bytes[next] == UInt8(ascii: " ") || bytes[next] == UInt8(ascii: "\t") { next += 1 }
        for word in ["include", "import"] where bytes[next...].starts(with: word.utf8) { return true }
        atLineStart = false
      } else if byte != UInt8(ascii: " "), byte != UInt8(ascii: "\t") {
        atLineStart = false
      }
      index += 1
    }
    return false
  }

  /// The facts of `file` as the editor has it (`unsaved` holds its text, and any other
  /// buffers), from its kept unit when the flags and the preamble are the same. Nil when the
  /// preamble has just changed, or libclang cannot parse the file this way: the caller then
  /// parses it the ordinary way (which also reports why a parse fails).
  public func facts(for file: String, arguments: [String], unsaved: [String: String], knowledge: Knowledge)
    -> FileFacts?
  {
    lock.lock()
    defer { lock.unlock() }
    uses += 1
    let preamble = unsaved[file].map { Self.preamble(of: $0) } ?? []
    // libclang lists the headers of a unit with a precompiled preamble without those first
    // included below the preamble, and the run record depends on that list: such a text is
    // parsed plainly.
    if let text = unsaved[file], Self.includesBelowPreamble(text, preambleLength: preamble.count) {
      if let entry = entries.removeValue(forKey: file) { clang_disposeTranslationUnit(entry.unit) }
      changedPreamble[file] = nil
      return nil
    }
    if let entry = entries[file], entry.arguments == arguments, entry.preamble == preamble {
      if let made = entry.made, made.unsaved == unsaved,
        made.dependencies.allSatisfy({ FileStamp($0.key) == $0.value })
      {
        entries[file]?.lastUse = uses
        return made.facts
      }
      let started = FileStamp.now()
      parses += 1
      let reparsed = withUnsavedFiles(unsaved) { buffers in
        clang_reparseTranslationUnit(
          entry.unit, UInt32(buffers.count), buffers.baseAddress, clang_defaultReparseOptions(entry.unit))
      }
      if reparsed == 0 {
        entries[file]?.lastUse = uses
        let kept = entry.inclusions.flatMap { $0.unchanged ? $0.files : nil }
        let inclusions = kept ?? CFrontEnd.inclusions(of: entry.unit)
        let facts = CFrontEnd.facts(
          of: entry.unit, file: file, arguments: arguments, knowledge: knowledge, inclusions: inclusions)
        entries[file]?.made = Self.made(facts, unsaved: unsaved, since: started)
        if kept == nil { entries[file]?.inclusions = Inclusions(inclusions, of: file, since: started) }
        return facts
      }
      // A failed reparse leaves the unit unusable.
      clang_disposeTranslationUnit(entry.unit)
      entries[file] = nil
    } else if let entry = entries.removeValue(forKey: file) {
      clang_disposeTranslationUnit(entry.unit)
      changedPreamble[file] = preamble
      return nil
    } else if changedPreamble[file].map({ $0 != preamble }) ?? false {
      // Still changing: parse plainly until an edit leaves it as the last one did.
      changedPreamble[file] = preamble
      return nil
    }
    changedPreamble[file] = nil
    // Visiting the unit then skips the preamble's declarations (the headers'), which it would
    // otherwise read back from the precompiled form one by one: most of a re-parse's time.
    if index == nil { index = clang_createIndex(1, 0) }
    let started = FileStamp.now()
    parses += 1
    var unit: CXTranslationUnit?
    let options =
      CXTranslationUnit_PrecompiledPreamble.rawValue | CXTranslationUnit_CreatePreambleOnFirstParse.rawValue
    let error = CFrontEnd.parse(
      file, arguments: arguments, unsaved: unsaved, index: index!, options: options, into: &unit)
    guard error == CXError_Success, let unit else { return nil }
    entries[file] = Entry(arguments: arguments, unit: unit, lastUse: uses, preamble: preamble)
    while entries.count > Self.capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
      clang_disposeTranslationUnit(oldest.value.unit)
      entries[oldest.key] = nil
    }
    let inclusions = CFrontEnd.inclusions(of: unit)
    let facts = CFrontEnd.facts(
      of: unit, file: file, arguments: arguments, knowledge: knowledge, inclusions: inclusions)
    entries[file]?.made = Self.made(facts, unsaved: unsaved, since: started)
    entries[file]?.inclusions = Inclusions(inclusions, of: file, since: started)
    return facts
  }

  private static func made(_ facts: FileFacts, unsaved: [String: String], since started: Int) -> Made? {
    let stamps = Dictionary(facts.dependencies.map { ($0, FileStamp($0)) }, uniquingKeysWith: { first, _ in first })
    guard !stamps.values.contains(where: { ($0?.modified ?? 0) >= started - 1_000_000_000 }) else { return nil }
    return Made(unsaved: unsaved, dependencies: stamps, facts: facts)
  }
}
