import Dispatch
import Foundation

/// Which translation units may mention or define a name, from a scan of their text and of
/// the project headers they include (found on their `-I`/`-iquote` paths; the system's
/// header folders, /usr/include and the like, are not read). Answers over-approximate: a unit is named
/// whenever it might be the one, so parsing only the named units loses nothing.
///
/// Known blind spots, both documented: a name made by `##` from two macro parameters is
/// matched only where the macro expands at file scope, and a system header's macro that
/// expands to a project function or to fork is not seen.
public final class CSourceIndex: Sendable {
  public struct Unit: Equatable, Sendable {
    public var file: String
    public var arguments: [String]
    public init(file: String, arguments: [String]) {
      self.file = file
      self.arguments = arguments
    }
  }

  /// Every file the index read, the units and their project headers.
  let files: [String]
  /// Per file, the units that read it.
  private let readers: [[Int]]
  private let unitExtraMentions: [Int: Set<String>]
  private let mentionIndex: [String: [Int]]
  private let definitionIndex: [String: [Int]]
  /// `##` fragments, with the files whose macros paste them.
  private let mentionFragments: [CSourceScan.Fragment: [Int]]
  private let definitionFragments: [CSourceScan.Fragment: [Int]]
  /// Files that expand, at file scope, a macro that pastes two parameters together.
  private let definesAnyName: [Int]
  /// Units only a parse can judge: not text, unreadable, or with a computed `#include`.
  public let unitsToParse: [Int]
  public let unitCount: Int
  /// What the index was built from, for a kept index to be checked against (ScanMemo):
  /// the units, the folders an include was looked for in, and the editor buffers it read.
  let units: [Unit]
  let consultedDirectories: Set<String>
  let unsavedRead: [String: String]

  /// - Parameter memo: scans kept from earlier checks, reused for unchanged files.
  public init(units: [Unit], unsaved: [String: String] = [:], memo: ScanMemo? = nil) {
    var builder = Builder(unsaved: unsaved, memo: memo)
    builder.build(units)
    unitCount = units.count
    self.units = units
    files = builder.paths
    readers = builder.readers
    unitExtraMentions = builder.unitExtraMentions
    mentionIndex = builder.mentionIndex
    definitionIndex = builder.definitionIndex
    mentionFragments = builder.mentionFragments
    definitionFragments = builder.definitionFragments
    definesAnyName = builder.definesAnyName
    unitsToParse = builder.unitsToParse
    consultedDirectories = builder.consultedDirectories
    unsavedRead = builder.unsavedRead
  }

  // MARK: Queries

  /// Units that mention a name `isRoot` accepts, or paste a fragment of one of `rootNames`.
  public func units(mentioningAnyOf rootNames: Set<String>, isRoot: (String) -> Bool) -> [Int] {
    var files = Set<Int>()
    for (name, holders) in mentionIndex where isRoot(name) {
      files.formUnion(holders)
    }
    for (fragment, holders) in mentionFragments where rootNames.contains(where: fragment.matches) {
      files.formUnion(holders)
    }
    var units = Set(files.flatMap { readers[$0] })
    for (unit, names) in unitExtraMentions where names.contains(where: isRoot) { units.insert(unit) }
    return units.sorted()
  }

  /// Units whose text (with their project headers) may mention `name`.
  public func units(mentioning name: String) -> [Int] {
    var files = mentionIndex[name] ?? []
    for (fragment, holders) in mentionFragments where fragment.matches(name) { files += holders }
    var units = Set(files.flatMap { readers[$0] })
    for (unit, names) in unitExtraMentions where names.contains(name) { units.insert(unit) }
    return units.sorted()
  }

  /// Units whose own text spells `name` (a header they read aside).
  public func units(spelling name: String) -> [Int] {
    var found = Set<Int>()
    for file in mentionIndex[name] ?? [] {
      for unit in readers[file] where units[unit].file == files[file] { found.insert(unit) }
    }
    return found.sorted()
  }

  /// Units that may define a function called `name`.
  public func units(mayDefine name: String) -> [Int] {
    var files = (definitionIndex[name] ?? []) + definesAnyName
    for (fragment, holders) in definitionFragments where fragment.matches(name) { files += holders }
    return Set(files.flatMap { readers[$0] }).sorted()
  }

  // MARK: Building

  private static func scan(_ path: String, unsaved: [String: String], memo: ScanMemo?) -> CSourceScan? {
    if let text = unsaved[path] { return CSourceScan(bytes: Array(text.utf8)) }
    if let memo { return memo.scan(path) }
    return CSourceScan(path: path)
  }

  private static func scanConcurrently(
    _ files: [String], unsaved: [String: String], memo: ScanMemo?
  ) -> [CSourceScan?] {
    var results = [CSourceScan?](repeating: nil, count: files.count)
    results.withUnsafeMutableBufferPointer { buffer in
      nonisolated(unsafe) let slots = buffer
      DispatchQueue.concurrentPerform(iterations: files.count) { index in
        slots[index] = scan(files[index], unsaved: unsaved, memo: memo)
      }
    }
    return results
  }

  /// The index as it is being built: scans, include closures, then the name indexes.
  private struct Builder {
    let unsaved: [String: String]
    let memo: ScanMemo?
    var paths: [String] = []
    var pathIDs: [String: Int] = [:]
    var scans: [CSourceScan?] = []
    /// For each unit, the files it reads (itself first).
    var closures: [[Int]] = []
    var readers: [[Int]] = []
    var unitExtraMentions: [Int: Set<String>] = [:]
    var mentionIndex: [String: [Int]] = [:]
    var definitionIndex: [String: [Int]] = [:]
    var mentionFragments: [CSourceScan.Fragment: [Int]] = [:]
    var definitionFragments: [CSourceScan.Fragment: [Int]] = [:]
    var definesAnyName: [Int] = []
    var unitsToParse: [Int] = []
    var consultedDirectories = Set<String>()
    var unsavedRead: [String: String] = [:]

    init(unsaved: [String: String], memo: ScanMemo?) {
      self.unsaved = unsaved
      self.memo = memo
    }

    mutating func build(_ units: [Unit]) {
      // The files themselves are most of the text: read and scan them on every core.
      let mainScans = CSourceIndex.scanConcurrently(units.map(\.file), unsaved: unsaved, memo: memo)
      for (unit, scan) in zip(units, mainScans) where pathIDs[unit.file] == nil {
        pathIDs[unit.file] = paths.count
        paths.append(unit.file)
        scans.append(scan)
      }
      var resolutions: [String: Int?] = [:]
      for (unitIndex, unit) in units.enumerated() {
        let directories = CSourceIndex.searchDirectories(unit.arguments)
        let directoriesKey = (directories.quoted + ["\u{1}"] + directories.angled).joined(separator: "\u{0}")
        var closure: [Int] = []
        var seen = Set<Int>()
        var pending: [Int] = []
        var unreadable = false
        func visit(_ id: Int) {
          if seen.insert(id).inserted {
            closure.append(id)
            pending.append(id)
          }
        }
        let main = id(for: unit.file, unsaved: unsaved)
        visit(main)
        for forced in directories.forced { visit(id(for: forced, unsaved: unsaved)) }
        while let next = pending.popLast() {
          guard let scan = scans[next] else {
            unreadable = unreadable || next == main
            continue
          }
          if !scan.isText || scan.hasComputedInclude {
            unreadable = true
          }
          let includerDirectory = (paths[next] as NSString).deletingLastPathComponent
          for include in scan.includes {
            let key = "\(include.isQuoted ? includerDirectory : "")\u{2}\(include.name)\u{2}\(directoriesKey)"
            let resolved: Int?
            if let known = resolutions[key] {
              resolved = known
            } else {
              let candidates =
                (include.isQuoted ? [includerDirectory] + directories.quoted : []) + directories.angled
              // Where the header would be: a header created there later changes that folder.
              for place in include.name.hasPrefix("/") ? [include.name] : candidates.map({ $0 + "/" + include.name }) {
                consultedDirectories.insert((place as NSString).deletingLastPathComponent)
              }
              resolved = CSourceIndex.resolve(include.name, in: candidates).map { id(for: $0, unsaved: unsaved) }
              resolutions[key] = resolved
            }
            if let resolved { visit(resolved) }
          }
        }
        if unreadable { unitsToParse.append(unitIndex) }
        closures.append(closure)
        if !directories.definitions.isEmpty { unitExtraMentions[unitIndex] = directories.definitions }
      }
      for path in paths { if let text = unsaved[path] { unsavedRead[path] = text } }
      readers = Array(repeating: [], count: paths.count)
      for (unit, closure) in closures.enumerated() {
        for file in closure { readers[file].append(unit) }
      }
      buildNameIndexes()
    }

    mutating func id(for path: String, unsaved: [String: String]) -> Int {
      if let known = pathIDs[path] { return known }
      let id = paths.count
      paths.append(path)
      pathIDs[path] = id
      scans.append(CSourceIndex.scan(path, unsaved: unsaved, memo: memo))
      return id
    }

    mutating func buildNameIndexes() {
      var macros: [String: CSourceScan.Macro] = [:]
      for scan in scans.compactMap({ $0 }) {
        for (name, macro) in scan.macros { macros[name, default: CSourceScan.Macro()].merge(macro) }
      }
      var expansions: [String: CSourceScan.Macro] = [:]
      func expansion(of name: String, visiting: inout Set<String>) -> CSourceScan.Macro {
        if let known = expansions[name] { return known }
        guard let macro = macros[name], visiting.insert(name).inserted else { return CSourceScan.Macro() }
        var result = macro
        for inner in macro.identifiers where macros[inner] != nil {
          // An argument passed on to an inner macro counts as used if the inner one uses it.
          result.merge(expansion(of: inner, visiting: &visiting))
        }
        visiting.remove(name)
        expansions[name] = result
        return result
      }
      for (file, scan) in scans.enumerated() {
        guard let scan else { continue }
        for name in scan.identifiers { mentionIndex[name, default: []].append(file) }
        for macro in scan.macros.values {
          for fragment in macro.pastedFragments { mentionFragments[fragment, default: []].append(file) }
        }
        var definitions = scan.fileScopeDefinitions
        // A macro expanded at file scope may define any name its expansion or its arguments hold.
        let uses = scan.fileScopeUses.map { ($0, $1, false) } + scan.fileScopeDeclarations.map { ($0, $1, true) }
        for (name, arguments, isDeclaration) in uses where macros[name] != nil {
          var visiting = Set<String>()
          let expanded = expansion(of: name, visiting: &visiting)
          if isDeclaration && !expanded.hasBraces { continue }
          definitions.formUnion(expanded.identifiers)
          if expanded.usesParameters { definitions.formUnion(arguments) }
          for fragment in expanded.pastedFragments { definitionFragments[fragment, default: []].append(file) }
          if expanded.pastesParameters { definesAnyName.append(file) }
        }
        for name in definitions { definitionIndex[name, default: []].append(file) }
      }
    }
  }

  private struct SearchDirectories {
    var quoted: [String] = []
    var angled: [String] = []
    /// `-include` and `-imacros` files.
    var forced: [String] = []
    /// Names in `-D` options.
    var definitions: Set<String> = []
  }

  private static func searchDirectories(_ arguments: [String]) -> SearchDirectories {
    var result = SearchDirectories()
    var index = 0
    func value(_ flag: String) -> String? {
      let argument = arguments[index]
      if argument == flag {
        index += 1
        return index < arguments.count ? arguments[index] : nil
      }
      return argument.hasPrefix(flag) ? String(argument.dropFirst(flag.count)) : nil
    }
    while index < arguments.count {
      defer { index += 1 }
      if let directory = value("-iquote") {
        if isProjectPath(directory) { result.quoted.append(absolute(directory)) }
      } else if let file = value("-include") ?? value("-imacros") {
        result.forced.append(absolute(file))
      } else if arguments[index].hasPrefix("-isystem") || arguments[index].hasPrefix("-idirafter") {
        if arguments[index] == "-isystem" || arguments[index] == "-idirafter" { index += 1 }
      } else if let directory = value("-I") {
        if isProjectPath(directory) { result.angled.append(absolute(directory)) }
      } else if let definition = value("-D") {
        var names = Set<String>()
        var current = ""
        for character in definition.unicodeScalars {
          if character == "_" || CharacterSet.alphanumerics.contains(character) {
            current.unicodeScalars.append(character)
          } else {
            if !current.isEmpty { names.insert(current) }
            current = ""
          }
        }
        if !current.isEmpty { names.insert(current) }
        result.definitions.formUnion(names)
      }
    }
    return result
  }

  /// The system's header folders hold no project code (a project under /usr/src does).
  private static func isProjectPath(_ directory: String) -> Bool {
    !["/usr/include", "/usr/local/include", "/usr/lib", "/usr/share"].contains {
      directory == $0 || directory.hasPrefix($0 + "/")
    }
  }

  private static func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? normalized(path) : normalized(FileManager.default.currentDirectoryPath + "/" + path)
  }

  private static func resolve(_ name: String, in directories: [String]) -> String? {
    if name.hasPrefix("/") {
      return FileManager.default.fileExists(atPath: name) ? normalized(name) : nil
    }
    for directory in directories {
      let candidate = directory + "/" + name
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue {
        return normalized(candidate)
      }
    }
    return nil
  }

  /// `a/./b/../c` as `a/c`, without touching the file system.
  static func normalized(_ path: String) -> String {
    guard path.contains("/.") || path.contains("//") else { return path }
    var parts: [Substring] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
      if part == "." { continue }
      if part == ".." {
        if !parts.isEmpty { parts.removeLast() }
        continue
      }
      parts.append(part)
    }
    return "/" + parts.joined(separator: "/")
  }
}
