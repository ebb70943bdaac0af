import CClang
import ForkGuardCore
import Foundation

/// Turns C files into `FileFacts` with libclang. One instance per thread: a `CXIndex` is
/// not shared across threads.
public final class CFrontEnd {
  public struct ParseFailure: Error, CustomStringConvertible {
    public var file: String
    public var problem: String
    public var description: String { "\(file): \(problem)" }
  }

  private let knowledge: Knowledge
  private let index: CXIndex
  private let prefixHeaders: PrefixHeaders?
  private var localIndex: CXIndex?

  /// - Parameter prefixHeaders: the run's shared precompiled prefixes, when files on
  ///   disk are parsed (not editor buffers).
  public init(knowledge: Knowledge, prefixHeaders: PrefixHeaders? = nil) {
    self.knowledge = knowledge
    self.prefixHeaders = prefixHeaders
    index = clang_createIndex(0, 0)
  }

  deinit {
    clang_disposeIndex(index)
    if let localIndex { clang_disposeIndex(localIndex) }
  }

  /// libclang parses each file on a fresh 8 MiB thread of its own unless
  /// `LIBCLANG_NOTHREADS` is set, so the AST is built in one thread's allocator and freed
  /// from another's: about 8% of a cold run. forkguard's workers already have deep stacks,
  /// so libclang may parse on them. Call before any worker starts: `setenv` races `getenv`.
  public static func parseOnCallingThreads() {
    _ = parsesOnCallingThreads
  }

  private static let parsesOnCallingThreads: Void = {
    setenv("LIBCLANG_NOTHREADS", "1", 1)
  }()

  /// Flags used when no compilation database covers a file.
  public static func defaultArguments(for file: String, includeDirectories: [String]) -> [String] {
    let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
    return ["-x", "c", "-std=gnu17", "-D_GNU_SOURCE", "-I\(directory)"]
      + includeDirectories.map { "-I\($0)" }
  }

  /// The defaults, minus what the user's own flags decide: their `-x` picks the language
  /// (and so the standard), their `-std=` the standard.
  public static func arguments(defaults: [String], userFlags: [String]) -> [String] {
    let setsLanguage = userFlags.contains { $0 == "-x" || ($0.hasPrefix("-x") && $0.count > 2) }
    let setsStandard = userFlags.contains { $0.hasPrefix("-std=") || $0.hasPrefix("--std=") }
    var result: [String] = []
    var index = 0
    while index < defaults.count {
      let flag = defaults[index]
      if flag == "-x", setsLanguage {
        index += 2
        continue
      }
      if flag.hasPrefix("-std="), setsLanguage || setsStandard {
        index += 1
        continue
      }
      result.append(flag)
      index += 1
    }
    return result + userFlags
  }

  /// - Parameter unsaved: editor buffers that differ from the files on disk, by path.
  public func facts(for file: String, arguments: [String], unsaved: [String: String] = [:]) throws -> FileFacts {
    if unsaved.isEmpty, let prefixHeaders,
      let prefix = prefixHeaders.prefix(for: file, arguments: arguments, index: index, knowledge: knowledge),
      let facts = facts(for: file, arguments: arguments, prefix: prefix)
    {
      return facts
    }
    var unit: CXTranslationUnit?
    let error = parse(file, arguments: arguments, unsaved: unsaved, into: &unit)
    guard error == CXError_Success, let unit else {
      throw ParseFailure(file: file, problem: failureReason(arguments: arguments, error: error))
    }
    defer { clang_disposeTranslationUnit(unit) }
    return Self.facts(of: unit, file: file, arguments: arguments, knowledge: knowledge)
  }

  /// The facts of `file` parsed on its precompiled prefix; nil when clang refuses the
  /// PCH (then the file is parsed whole).
  private func facts(for file: String, arguments: [String], prefix: PrefixHeaders.Prefix) -> FileFacts? {
    // An index that leaves the PCH's declarations out of the unit's walk: visiting them
    // reads every one of them back from the PCH, which costs about what parsing them did.
    if localIndex == nil { localIndex = clang_createIndex(1, 0) }
    var unit: CXTranslationUnit?
    let error = Self.parse(
      file, arguments: arguments + ["-include-pch", prefix.precompiledHeader], unsaved: [:], index: localIndex!,
      options: 0, into: &unit)
    guard error == CXError_Success, let unit else { return nil }
    defer { clang_disposeTranslationUnit(unit) }
    if Self.errors(of: unit).contains(where: { $0.fatal && $0.message.contains("precompiled header") }) {
      return nil
    }
    let inclusions = Set(Self.inclusions(of: unit)).union(prefix.inclusions).sorted()
    return Self.facts(
      of: unit, file: file, arguments: arguments, knowledge: knowledge, inclusions: inclusions,
      prefix: prefix.collected)
  }

  /// What a parsed translation unit says about `file`.
  /// - Parameter inclusions: the unit's included files when the caller knows them (an editor
  ///   unit re-parsed on the same preamble); libclang otherwise lists them by loading every
  ///   source location entry of the preamble, a tenth of a re-parse of sshd.c.
  /// - Parameter prefix: what the walk of the unit's precompiled prefix collected,
  ///   when the unit's walk leaves its declarations out.
  static func facts(
    of unit: CXTranslationUnit, file: String, arguments: [String], knowledge: Knowledge,
    inclusions known: [String]? = nil, prefix: CFactExtractor.Collected? = nil
  ) -> FileFacts {
    var facts = FileFacts(path: file)
    let names = FileNames()
    facts.parseProblem = Self.parseProblem(of: unit, names: names)
    let extractor = CFactExtractor(knowledge: knowledge, mainFile: file, names: names)
    if let prefix { extractor.start(from: prefix) }
    MacroLines.during { extractor.extract(from: Cursor(clang_getTranslationUnitCursor(unit))) }
    facts.functions = extractor.functions
    facts.childRegions = extractor.childRegions
    facts.registrations = extractor.registrations
    facts.pointerStores = extractor.pointerStores
    facts.registrations += CallRegistrations.registrations(in: facts, knowledge: knowledge)
    facts.lockAttributes = extractor.lockAttributes
    facts.comparedFunctions = extractor.comparedFunctions.sorted()
    facts.variableBits = extractor.variableBits
    facts.definedVariables = extractor.definedVariables.sorted()
    // clang names a file by the path it was last looked up by (`compat/../x.h` or `x.h`,
    // whichever include came last), which a precompiled header changes: one spelling.
    facts.dependencies = Set((known ?? Self.inclusions(of: unit)).map(Self.plainPath)).subtracting([file]).sorted()
    // A header that was not found is not among them; the folders it was looked for in are,
    // so that it appearing there (a configure step writing config.h) makes the facts stale
    // for the facts cache and the run record.
    if let problem = facts.parseProblem, !problem.missingHeaders.isEmpty {
      let folders = [(file as NSString).deletingLastPathComponent] + Self.includeFolders(arguments)
      var seen = Set(facts.dependencies)
      for folder in folders where seen.insert(folder).inserted {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue {
          facts.dependencies.append(folder)
        }
      }
    }
    return facts
  }

  /// The folders `-I`, `-iquote`, `-isystem` and `-idirafter` name, in order (the compilation
  /// database's are absolute already).
  static func includeFolders(_ arguments: [String]) -> [String] {
    let flags = ["-I", "-iquote", "-isystem", "-idirafter"]
    var folders: [String] = []
    for group in CommandLineFlags.groups(arguments) {
      if group.count == 2, flags.contains(group[0]) {
        folders.append(group[1])
      } else if let flag = flags.first(where: { group[0].hasPrefix($0) && group[0].count > $0.count }) {
        folders.append(String(group[0].dropFirst(flag.count)))
      }
    }
    return folders
  }

  private func parse(
    _ file: String, arguments: [String], unsaved: [String: String], into unit: inout CXTranslationUnit?
  ) -> CXErrorCode {
    Self.parse(file, arguments: arguments, unsaved: unsaved, index: index, options: 0, into: &unit)
  }

  /// `options` beyond KeepGoing (CEditorUnits adds the precompiled preamble's).
  static func parse(
    _ file: String, arguments: [String], unsaved: [String: String], index: CXIndex, options: UInt32,
    into unit: inout CXTranslationUnit?, keepGoing: Bool = true
  ) -> CXErrorCode {
    // The resource directory holds clang's own headers (stddef.h); libclang finds it
    // relative to its own path, which Debian's symlinks can hide.
    let fullArguments = ["clang"] + Self.resourceDirectoryArguments + arguments + ["-ferror-limit=0", "-w"]
    let options = (keepGoing ? CXTranslationUnit_KeepGoing.rawValue : 0) | options
    return withUnsavedFiles(unsaved) { buffers in
      withCStrings(fullArguments) { argv in
        clang_parseTranslationUnit2FullArgv(
          index, file, argv, Int32(fullArguments.count), buffers.baseAddress, UInt32(buffers.count), UInt32(options),
          &unit)
      }
    }
  }

  /// libclang says only "error 4" when its driver refuses the command line. Find the flags
  /// it refuses by parsing an empty file without each flag in turn: the ones whose removal
  /// makes the parse work are named, with what they are.
  private func failureReason(arguments: [String], error: CXErrorCode) -> String {
    let probe = "/forkguard-flag-probe/probe.c"
    func parses(_ flags: [String]) -> Bool {
      var unit: CXTranslationUnit?
      let result = parse(probe, arguments: flags, unsaved: [probe: ""], into: &unit)
      if let unit { clang_disposeTranslationUnit(unit) }
      return result == CXError_Success
    }
    let groups = CommandLineFlags.groups(arguments)
    guard !parses(arguments) else {
      return "libclang could not read or parse the file (error \(error.rawValue)), although it accepts its flags"
    }
    let culprits = groups.indices.filter { index in
      parses(groups.enumerated().filter { $0.offset != index }.flatMap(\.element))
    }.map { groups[$0].joined(separator: " ") }
    guard !culprits.isEmpty else {
      return
        "libclang rejected the command line (error \(error.rawValue)); check the flags: \(arguments.joined(separator: " "))"
    }
    return CommandLineFlags.rejection(of: culprits)
  }

  static func plainPath(_ path: String) -> String {
    guard path.contains("/./") || path.contains("/../") else { return path }
    return URL(fileURLWithPath: path).standardizedFileURL.path
  }

  /// Every file the translation unit included, directly or not.
  static func inclusions(of unit: CXTranslationUnit) -> [String] {
    final class Box { var paths = Set<String>() }
    let box = Box()
    clang_getInclusions(
      unit,
      { file, _, _, context in
        guard let file else { return }
        Unmanaged<Box>.fromOpaque(context!).takeUnretainedValue().paths.insert(clang_getFileName(file).consume())
      }, Unmanaged.passUnretained(box).toOpaque())
    return box.paths.sorted()
  }

  /// The unit's errors (fatal ones included), in clang's order; a location is valid while
  /// the unit is.
  static func errors(of unit: CXTranslationUnit) -> [(message: String, location: CXSourceLocation, fatal: Bool)] {
    (0..<clang_getNumDiagnostics(unit)).compactMap { index in
      let diagnostic = clang_getDiagnostic(unit, index)
      defer { clang_disposeDiagnostic(diagnostic) }
      let severity = clang_getDiagnosticSeverity(diagnostic)
      guard severity == CXDiagnostic_Error || severity == CXDiagnostic_Fatal else { return nil }
      return (
        clang_getDiagnosticSpelling(diagnostic).consume(), clang_getDiagnosticLocation(diagnostic),
        severity == CXDiagnostic_Fatal
      )
    }
  }

  private static func parseProblem(of unit: CXTranslationUnit, names: FileNames) -> ParseProblem? {
    var first: ParseProblem?
    var errors = 0
    var missing: [String] = []
    for error in Self.errors(of: unit) {
      errors += 1
      // "'config.h' file not found"
      if error.message.hasSuffix("' file not found"), error.message.hasPrefix("'") {
        missing.append(String(error.message.dropFirst().dropLast("' file not found".count)))
      }
      if first == nil, let location = Cursor.location(error.location, in: names) {
        first = ParseProblem(location: location, message: error.message, errorCount: 0)
      }
    }
    guard errors > 0 else { return nil }
    first?.errorCount = errors
    first?.missingHeaders = missing
    return first
  }

  static let resourceDirectoryArguments: [String] = {
    // llvm-config where the LLVM tools are installed; Debian's fixed path where only the
    // runtime and libclang-common-14-dev are (an installed forkguard package).
    let libraryDirectories =
      ["llvm-config-14", "llvm-config"].compactMap { try? run($0, ["--libdir"]) }.filter { !$0.isEmpty }
      + ["/usr/lib/llvm-14/lib"]
    for directory in libraryDirectories {
      let clangDirectory = URL(fileURLWithPath: directory).appendingPathComponent("clang")
      if let versions = try? FileManager.default.contentsOfDirectory(atPath: clangDirectory.path),
        let version = versions.sorted().last,
        FileManager.default.fileExists(
          atPath: clangDirectory.appendingPathComponent(version + "/include/stddef.h").path)
      {
        return ["-resource-dir", clangDirectory.appendingPathComponent(version).path]
      }
    }
    return []
  }()

  private static func run(_ tool: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return "" }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

/// Editor buffers as libclang takes them, valid for the call.
func withUnsavedFiles<R>(_ unsaved: [String: String], _ body: (UnsafeMutableBufferPointer<CXUnsavedFile>) -> R) -> R {
  let paths = Array(unsaved.keys)
  let contents = paths.map { unsaved[$0]! }
  return withCStrings(paths) { names in
    withCStrings(contents) { texts in
      var buffers = (0..<paths.count).map { index in
        CXUnsavedFile(Filename: names[index], Contents: texts[index], Length: UInt(strlen(texts[index]!)))
      }
      return buffers.withUnsafeMutableBufferPointer { body($0) }
    }
  }
}

private func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
  let pointers = strings.map { strdup($0) }
  defer { pointers.forEach { free($0) } }
  return body(pointers.map { UnsafePointer($0) })
}
