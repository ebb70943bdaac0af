import ForkGuardKnowledgeData
import Foundation

/// Which functions count as async-signal-safe.
public enum SafetyProfile: String, Codable, CaseIterable, Sendable {
  case posix2024 = "posix-2024"
  case posix2017 = "posix-2017"
  case glibc

  var listName: String {
    switch self {
    case .posix2024, .glibc: return "POSIX.1-2024"
    case .posix2017: return "POSIX.1-2017"
    }
  }
}

/// What the knowledge base says of a function that the analysed code does not define.
public enum Safety: Hashable, Sendable {
  case safe
  /// Not async-signal-safe; `reasons` are phrases such as "allocates".
  case unsafe(reasons: [String])
  /// A lock function: its own rules judge it (acquire in a handler, locks across fork).
  case lock(LockRole)
  /// No data says either way.
  case unknown
}

public enum LockRole: String, Codable, Sendable {
  case acquire, tryAcquire, release, initialise, destroy
  /// Held while a closure argument runs (`withLock { … }`).
  case scoped
}

public struct LockFunction: Codable, Hashable, Sendable {
  public var role: LockRole
  public var lockArgument: Int
  public var family: String
  public var mode: String?
  /// `swift` for methods; C functions leave it out.
  public var language: String?

  public init(role: LockRole, lockArgument: Int, family: String, mode: String? = nil, language: String? = nil) {
    self.role = role
    self.lockArgument = lockArgument
    self.family = family
    self.mode = mode
    self.language = language
  }
}

/// A signal or atfork registration function and which arguments are handlers.
public struct RegistrationFunction: Codable, Hashable, Sendable {
  public var function: String
  public var handlerArgument: Int?
  /// For a signal registration, the argument that is the signal number.
  public var signalArgument: Int?
  public var prepareArgument: Int?
  public var parentArgument: Int?
  public var childArgument: Int?

  public init(
    function: String, handlerArgument: Int? = nil, prepareArgument: Int? = nil, parentArgument: Int? = nil,
    childArgument: Int? = nil
  ) {
    self.function = function
    self.handlerArgument = handlerArgument
    self.prepareArgument = prepareArgument
    self.parentArgument = parentArgument
    self.childArgument = childArgument
  }
}

/// User additions, from the configuration file.
public struct KnowledgeOverrides: Hashable, Sendable {
  public var safe: [String: String] = [:]
  public var unsafe: [String: String] = [:]
  /// The user's own lock API.
  public var locks: [String: LockFunction] = [:]
  /// Functions that install a signal handler, with the handler's argument index.
  public var signalRegistrations: [String: Int] = [:]

  public init(
    safe: [String: String] = [:], unsafe: [String: String] = [:], locks: [String: LockFunction] = [:],
    signalRegistrations: [String: Int] = [:]
  ) {
    self.safe = safe
    self.unsafe = unsafe
    self.locks = locks
    self.signalRegistrations = signalRegistrations
  }
}

public struct KnowledgeError: Error, CustomStringConvertible {
  public var file: String
  public var problem: String
  public var description: String { "\(file): \(problem)" }
}

/// Everything forkguard knows about library functions, loaded from `rules/data`.
public struct Knowledge: Sendable {
  public let profile: SafetyProfile
  public let overrides: KnowledgeOverrides
  private let safeList: Set<String>
  private let glibc: [String: GlibcEntry]
  private let reasonPhrases: [String: String]
  private let internals: Internals
  private let swift: SwiftTables
  private let formatting: BufferFormatting
  private let cLocale: CLocaleLookups
  private let setxid: SetxidCalls
  private let libraryResults: LibraryResults
  private let argumentSafety: ArgumentSafety
  private let unbufferedStderr: UnbufferedStderr
  /// Every function the C library exports.
  private let libraryNames: Set<String>
  private let lookups: Lookups

  /// The tables' lists as sets: every call the analyses meet asks several of them, and a
  /// list is searched name by name. A class, so copying the knowledge copies one reference.
  final class Lookups: Sendable {
    let exec: Set<String>
    /// `exits` and `neverReturn`.
    let endsProcess: Set<String>
    /// The thread starts' functions and `threadStartingCalls`.
    let startsThread: Set<String>
    let threadJoins: Set<String>
    let processGroupCalls: Set<String>
    let vforkAllowed: Set<String>
    let allocators: Set<String>
    let assertionFailures: Set<String>
    let heapResettingForks: Set<String>
    let internalSafe: Set<String>
    let swiftSafe: Set<String>
    /// The first bytes an alias or a stripped prefix starts with: a name starting otherwise,
    /// without a stripped suffix, is its own canonical name, answered without hashing it
    /// (the parse demand asks for every name every file calls, at every check).
    let renamedFirstBytes: Set<UInt8>
    let strippedSuffixes: [[UInt8]]

    init(process: ProcessTables, internals: Internals, swift: SwiftTables) {
      exec = Set(process.exec)
      endsProcess = Set(process.exits).union(process.neverReturn)
      startsThread = Set(process.threadStarts.map(\.function)).union(process.threadStartingCalls)
      threadJoins = Set(process.threadJoins)
      processGroupCalls = Set(process.processGroupCalls)
      vforkAllowed = Set(process.vforkAllowed)
      allocators = Set(process.allocators)
      assertionFailures = Set(process.assertionFailures)
      heapResettingForks = Set(process.heapResettingForks)
      internalSafe = Set(internals.safe)
      swiftSafe = Set(swift.safe)
      renamedFirstBytes = Set((Array(internals.aliases.keys) + internals.strippedPrefixes).compactMap(\.utf8.first))
      strippedSuffixes = internals.strippedSuffixes.map { Array($0.utf8) }
    }
  }

  struct SwiftTables: Codable, Sendable {
    var unsafe: [String: String]
    var safe: [String]
  }
  public let process: ProcessTables
  public let lockTables: LockTables
  /// Changes whenever something that shapes the facts a front end extracts changes: the
  /// data files, the user's lock and registration functions, the profile.
  public let parsingFingerprint: String
  public var locks: [String: LockFunction] { lockTables.functions }

  struct GlibcEntry: Codable, Sendable {
    var `as`: String
    var reasons: [String]
    /// Set for a function the manual marks AS-Unsafe whose code no longer is: what the code does.
    var implementation: String?
    var isSafe: Bool { self.as.hasPrefix("AS-Safe") }
  }

  struct Internals: Codable, Sendable {
    var safe: [String]
    var aliases: [String: String]
    var strippedPrefixes: [String]
    var strippedSuffixes: [String]
  }

  public struct ProcessTables: Codable, Sendable {
    public struct Clone: Codable, Sendable {
      public var functions: [String]
      public var entryArgument: Int
      public var flagsArgument: Int
      public var flags: [String: Int]
    }
    public var forks: [String: ForkKind]
    public var clone: Clone
    public var exec: [String]
    public var exits: [String]
    public var vforkAllowed: [String]
    /// Library functions that never return besides the exits (`err`, `longjmp`…).
    public var neverReturn: [String]
    /// Library calls that start threads of their own, with no entry function to check.
    public var threadStartingCalls: [String]
    /// Words in a path (split at `/`, `-`, `_`, `.`) that mark another platform's file.
    public var otherPlatformNames: [String]
    /// Calls that wait for a thread to end.
    public var threadJoins: [String]
    public var signalRegistrations: [RegistrationFunction]
    public var signalActionFields: [String]
    public var atforkRegistrations: [RegistrationFunction]
    public var threadStarts: [ThreadStart]
    public var suggestions: [String: String]
    /// What a call returns in a fork child that has not changed its process group yet
    /// (`setsid`: "positive", the new session's id).
    public var forkChildResults: [String: String]
    /// Calls that change the process group; after one, forkChildResults no longer hold.
    public var processGroupCalls: [String]
    /// Forks after which the child's heap is consistent (glibc's `fork()` takes malloc's
    /// locks around the fork), and the functions whose only lock is malloc's.
    public var heapResettingForks: [String]
    public var allocators: [String]
    /// Calls made only when an assertion, a stack canary or a fortify check has failed, as
    /// the program aborts (`__assert_fail`).
    public var assertionFailures: [String]
    /// Signals no handler can be installed for (SIGKILL, SIGSTOP): a registration for one
    /// never runs its handler.
    public var uncatchableSignals: [Int]
  }

  public struct ThreadStart: Codable, Sendable {
    public var function: String
    /// -1: the trailing closure.
    public var entryArgument: Int
    public var language: String?
  }

  /// Lock functions and the ways a mutex gets an owner-checking type.
  public struct LockTables: Codable, Sendable {
    public struct TypeSetter: Codable, Sendable {
      public var lockArgument: Int?
      public var attributeArgument: Int?
      public var typeArgument: Int?
    }
    public var functions: [String: LockFunction]
    /// Pointee types of arguments tracked as locks.
    public var types: [String]
    /// Spelled names (`PTHREAD_MUTEX_RECURSIVE`) to `recursive` or `errorcheck`.
    public var mutexTypes: [String: String]
    public var typeSetters: [String: TypeSetter]
  }

  public init(
    profile: SafetyProfile = .posix2024, overrides: KnowledgeOverrides = .init(),
    dataDirectory: URL = KnowledgeDataBundle.dataDirectory
  ) throws {
    self.profile = profile
    self.overrides = overrides
    func load(_ name: String) throws -> Data {
      let url = dataDirectory.appendingPathComponent(name)
      do { return try Data(contentsOf: url) } catch {
        throw KnowledgeError(file: url.path, problem: "cannot read knowledge file: \(error.localizedDescription)")
      }
    }
    func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
      do { return try JSONDecoder().decode(T.self, from: try load(name)) } catch let error as KnowledgeError {
        throw error
      } catch {
        throw KnowledgeError(file: dataDirectory.appendingPathComponent(name).path, problem: "malformed: \(error)")
      }
    }
    func list(_ name: String) throws -> Set<String> {
      let text = String(decoding: try load(name), as: UTF8.self)
      return Set(
        text.split(separator: "\n").map { $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0] }
          .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }
    struct GlibcFile: Codable { var functions: [String: GlibcEntry] }
    struct ReasonsFile: Codable { var reasons: [String: String] }

    struct SourceFile: Codable { var functions: [String: String] }
    var glibc = try decode(GlibcFile.self, "glibc-as-safety.json").functions
    for (name, implementation) in try decode(SourceFile.self, "glibc-source-safety.json").functions {
      glibc[name] = GlibcEntry(as: "AS-Safe", reasons: [], implementation: implementation)
    }
    self.glibc = glibc
    reasonPhrases = try decode(ReasonsFile.self, "glibc-reasons.json").reasons
    var process = try decode(ProcessTables.self, "process.json")
    for (function, argument) in overrides.signalRegistrations.sorted(by: { $0.key < $1.key }) {
      process.signalRegistrations.append(RegistrationFunction(function: function, handlerArgument: argument))
    }
    self.process = process
    var lockTables = try decode(LockTables.self, "locks.json")
    lockTables.functions.merge(overrides.locks) { _, user in user }
    self.lockTables = lockTables
    internals = try decode(Internals.self, "libc-internals.json")
    swift = try decode(SwiftTables.self, "swift.json")
    formatting = try decode(BufferFormatting.self, "glibc-formatting.json")
    cLocale = try decode(CLocaleLookups.self, "glibc-c-locale.json")
    setxid = try decode(SetxidCalls.self, "glibc-setxid.json")
    libraryResults = try decode(LibraryResults.self, "libc-results.json")
    argumentSafety = try decode(ArgumentSafety.self, "glibc-argument-safety.json")
    unbufferedStderr = try decode(UnbufferedStderr.self, "glibc-unbuffered-stderr.json")
    libraryNames = try list("glibc-2.36-functions.txt")
    lookups = Lookups(process: process, internals: internals, swift: swift)
    var fingerprint = ContentHash()
    for name in ["process.json", "locks.json", "libc-internals.json", "swift.json"] { fingerprint.add(try load(name)) }
    fingerprint.add(profile.rawValue)
    for (name, lock) in overrides.locks.sorted(by: { $0.key < $1.key }) {
      fingerprint.add("\(name):\(lock.role.rawValue):\(lock.lockArgument)")
    }
    for (name, argument) in overrides.signalRegistrations.sorted(by: { $0.key < $1.key }) {
      fingerprint.add("\(name):\(argument)")
    }
    parsingFingerprint = fingerprint.hex
    switch profile {
    case .posix2017: safeList = try list("async-signal-safe-posix-2017.txt")
    case .posix2024: safeList = try list("async-signal-safe-posix-2024.txt")
    case .glibc:
      safeList = try list("async-signal-safe-posix-2024.txt").union(glibc.filter { $0.value.isSafe }.map(\.key))
    }
  }

  /// The library name a call stands for: `__printf_chk` is `printf`, `__builtin_memcpy` is `memcpy`.
  public func canonicalName(_ name: String) -> String {
    if let first = name.utf8.first, !lookups.renamedFirstBytes.contains(first),
      !lookups.strippedSuffixes.contains(where: {
        name.utf8.count >= $0.count && name.utf8.suffix($0.count).elementsEqual($0)
      })
    {
      return name
    }
    if let alias = internals.aliases[name] { return alias }
    if safeList.contains(name) || glibc[name] != nil || lockTables.functions[name] != nil { return name }
    var stripped = name
    for prefix in internals.strippedPrefixes where stripped.hasPrefix(prefix) {
      stripped.removeFirst(prefix.count)
      break
    }
    for suffix in internals.strippedSuffixes where stripped.hasSuffix(suffix) {
      stripped.removeLast(suffix.count)
      break
    }
    return stripped
  }

  public func safety(of name: String) -> Safety {
    if let reason = overrides.unsafe[name] { return .unsafe(reasons: [reason]) }
    if overrides.safe[name] != nil || lookups.internalSafe.contains(name) { return .safe }
    // Swift runtime and library calls, and the constructs the Swift front end names <…>.
    if let reason = swift.unsafe[name] { return .unsafe(reasons: [reason]) }
    if lookups.swiftSafe.contains(name) { return .safe }
    let name = canonicalName(name)
    if let reason = overrides.unsafe[name] { return .unsafe(reasons: [reason]) }
    if overrides.safe[name] != nil || lookups.internalSafe.contains(name) { return .safe }
    // A lock function on the list (sem_post, the way to wake a thread from a handler) is safe.
    if safeList.contains(name) { return .safe }
    if let lock = lockTables.functions[name] { return .lock(lock.role) }
    if let entry = glibc[name] {
      if entry.isSafe {
        let glibcSays = entry.implementation == nil ? "glibc marks it AS-Safe" : "glibc's code is AS-Safe"
        return .unsafe(reasons: [
          "is not on the \(profile.listName) list (\(glibcSays); '--profile glibc' accepts it)"
        ])
      }
      let phrases = entry.reasons.compactMap { reasonPhrases[$0] }
      return .unsafe(reasons: phrases.isEmpty ? [reasonPhrases["unqualified"] ?? "is AS-Unsafe"] : Self.unique(phrases))
    }
    return .unknown
  }

  /// What a call can do given its arguments: `snprintf(buf, n, "%s: %d", …)` formats on the
  /// stack in glibc, with no lock and no allocation; any other call is judged by its name.
  public func safety(of call: CallSite) -> Safety {
    let byName = safety(of: call.callee)
    guard case .unsafe = byName, overrides.unsafe[call.callee] == nil, let format = lockFreeFormat(of: call) else {
      return byName
    }
    if profile == .glibc { return .safe }
    return .unsafe(reasons: [
      "is not on the \(profile.listName) list (glibc formats \(Self.quoted(format)) into the caller's buffer without a lock or an allocation; '--profile glibc' accepts it)"
    ])
  }

  /// Unsafe only by the POSIX letter, for this call: reported at note severity.
  public func isSafeOnlyByGlibc(_ call: CallSite) -> Bool {
    if overrides.unsafe[call.callee] == nil, lockFreeFormat(of: call) != nil { return true }
    return isSafeOnlyByGlibc(call.callee)
  }

  /// Why the call is safe in glibc when the process never left the "C" locale
  /// (`AnalysisInput.leavesCLocale`), or nil: `strerror(errno)` returns the untranslated message.
  /// `arguments`: what the call's arguments hold where it is made, when known.
  public func whySafeInCLocale(_ call: CallSite, arguments: [Int: AbstractValue] = [:]) -> String? {
    guard overrides.unsafe[call.callee] == nil, call.symbol != nil else { return nil }
    return cLocale.whySafe(call, name: canonicalName(call.callee), arguments: arguments)
  }

  /// Whether the call may be safe for some values of its arguments (in glibc, or in the C
  /// locale): its severity is known only once the search has seen them.
  public func severityDependsOnArguments(_ call: CallSite) -> Bool {
    guard call.symbol != nil, overrides.unsafe[call.callee] == nil else { return false }
    let name = canonicalName(call.callee)
    return cLocale.dependsOnArguments(name) || argumentSafety.functions[name] != nil
      || formatting.functions[call.callee].map { Self.isPassedOn(call.argumentValues[$0]) } == true
      || unbufferedStderr.formatIsPassedOn(call)
  }

  private static func isPassedOn(_ argument: ArgumentValue?) -> Bool {
    if case .parameter? = argument { return true }
    return false
  }

  /// Why glibc makes the call safe for the arguments it is made with
  /// (`sysconf(_SC_OPEN_MAX)`, `vsnprintf` of a format every caller passes as a lock-free
  /// literal), or nil. `arguments`: what they hold where it is made.
  public func whySafeForArguments(_ call: CallSite, arguments: [Int: AbstractValue]) -> String? {
    guard call.symbol != nil, overrides.unsafe[call.callee] == nil else { return nil }
    if let index = formatting.functions[call.callee], arguments[index] == .lockFreeFormat {
      return
        "every format it is given is a literal glibc formats into the caller's buffer without a lock or an allocation"
    }
    return argumentSafety.whySafe(canonicalName(call.callee), arguments: arguments)
  }

  /// Whether glibc formats `format` on the stack without a lock or an allocation
  /// (rules/data/glibc-formatting.json).
  public func isLockFreeFormat(_ format: String) -> Bool { formatting.isLockFree(format) }

  /// Why glibc makes the call safe while stderr stays unbuffered (`AnalysisInput.buffersStderr`),
  /// or nil: `fprintf(stderr, "%d reaped\n", pid)` formats on the stack and writes once.
  public func whySafeOnUnbufferedStderr(_ call: CallSite, arguments: [Int: AbstractValue] = [:]) -> String? {
    guard call.symbol != nil, overrides.unsafe[call.callee] == nil,
      unbufferedStderr.writesToStderr(call, arguments: arguments, formatting: formatting)
    else { return nil }
    return unbufferedStderr.why
  }

  /// Whether the library call may give stderr a buffer (`setvbuf`, `freopen`), or reopen it.
  public func mayBufferStderr(_ call: CallSite) -> Bool { call.symbol != nil && unbufferedStderr.mayBuffer(call) }

  /// Library functions that can give a stream a buffer.
  public var streamBufferingFunctions: Set<String> { Set(unbufferedStderr.buffering.keys) }

  /// Why a set*id call is one system call in a process that never started a thread (for
  /// `inForkChild`: in the child of glibc's `fork()`), or nil for any other call.
  public func whySetxidIsOneSystemCall(_ call: CallSite, inForkChild: Bool) -> String? {
    guard overrides.unsafe[call.callee] == nil, call.symbol != nil,
      setxid.functions.contains(canonicalName(call.callee))
    else { return nil }
    return inForkChild ? setxid.forkChild : setxid.singleThreaded
  }

  /// Whether a call to this library function may return what its arguments decide.
  public func hasKnownResult(_ name: String) -> Bool { libraryResults.results[canonicalName(name)] != nil }

  /// What a library call returns when the arguments decide it: `argument` gives what the
  /// argument at an index holds where the call is made.
  public func result(of call: CallSite, argument: (Int) -> AbstractValue?) -> Int? {
    guard call.symbol != nil, overrides.unsafe[call.callee] == nil else { return nil }
    return libraryResults.result(of: canonicalName(call.callee), argument: argument)
  }

  /// Library calls after which a process may have left the "C" locale.
  public var localeSetters: Set<String> { Set(cLocale.setters) }

  private func lockFreeFormat(of call: CallSite) -> String? {
    guard let format = formatting.literalFormat(of: call), formatting.isLockFree(format) else { return nil }
    return format
  }

  /// A format as C spells it, shortened: `"%s: %s\n"`.
  static func quoted(_ format: String) -> String {
    var text = ""
    for character in format {
      switch character {
      case "\n": text += "\\n"
      case "\r": text += "\\r"
      case "\t": text += "\\t"
      case "\"": text += "\\\""
      case "\\": text += "\\\\"
      default:
        if let ascii = character.asciiValue, ascii < 0x20 || ascii == 0x7f {
          let octal = String(ascii, radix: 8)
          text += "\\" + String(repeating: "0", count: 3 - octal.count) + octal
        } else {
          text.append(character)
        }
      }
      if text.count > 40 { return "\"" + text + "…\"" }
    }
    return "\"" + text + "\""
  }

  /// The fork leaves the child a consistent heap with malloc's locks free: glibc's `fork()`.
  public func resetsHeapInChild(_ forkCallee: String) -> Bool { lookups.heapResettingForks.contains(forkCallee) }

  /// The call's only hazard is the heap (malloc and free, and what glibc marks AS-Unsafe
  /// only for allocating): it cannot deadlock in a child whose fork reset the heap's locks.
  /// Formatting calls are judged by their format instead: `%m` translates, a float allocates.
  public func isHeapOnly(_ call: CallSite) -> Bool {
    guard overrides.unsafe[call.callee] == nil, formatting.functions[call.callee] == nil else { return false }
    let name = canonicalName(call.callee)
    guard overrides.unsafe[name] == nil, formatting.functions[name] == nil else { return false }
    if lookups.allocators.contains(name) { return true }
    guard let entry = glibc[name], !entry.isSafe else { return false }
    return entry.reasons == ["ascuheap"]
  }

  /// The call runs only when an assertion (or a stack or fortify check) has already failed,
  /// on the way to abort: unsafe by the letter, reached only in a program already broken.
  public func isAssertionFailure(_ call: CallSite) -> Bool {
    overrides.unsafe[call.callee] == nil && lookups.assertionFailures.contains(call.callee)
  }

  /// glibc documents the function AS-Safe but the profile's POSIX list does not have it:
  /// reported at note severity, visible without failing CI.
  public func isSafeOnlyByGlibc(_ name: String) -> Bool {
    guard overrides.unsafe[name] == nil else { return false }
    let name = canonicalName(name)
    return !safeList.contains(name) && glibc[name]?.isSafe == true && overrides.unsafe[name] == nil
  }

  public func effect(of name: String) -> CallEffect {
    let name = canonicalName(name)
    if let kind = process.forks[name] { return .fork(kind) }
    if lookups.exec.contains(name) { return .exec }
    if lookups.endsProcess.contains(name) { return .exitProcess }
    return .normal
  }

  /// Whether a call to this library function starts a thread.
  public func startsThread(_ name: String) -> Bool {
    let name = canonicalName(name)
    return lookups.startsThread.contains(name)
  }

  /// Every function the C library exports, sorted.
  public var libraryFunctionNames: [String] { libraryNames.sorted() }

  /// The C functions that start a thread (`pthread_create`, `g_thread_new`…).
  public var threadStartNames: Set<String> {
    Set(process.threadStarts.filter { $0.language != "swift" }.map(\.function)).union(process.threadStartingCalls)
  }

  public func joinsThread(_ name: String) -> Bool { lookups.threadJoins.contains(canonicalName(name)) }

  /// What a library call returns in a fresh fork child, and whether it changes the process
  /// group (ChildRegionAnalysis prunes the branches that result rules out).
  public func forkChildResult(of name: String) -> ChildRegionAnalysis.ChildCallResult? {
    let name = canonicalName(name)
    let value: AbstractValue? = process.forkChildResults[name].flatMap {
      switch $0 {
      case "positive": return .positive
      case "zero": return .exactly(0)
      default: return nil
      }
    }
    let changesGroup = lookups.processGroupCalls.contains(name)
    guard value != nil || changesGroup else { return nil }
    return ChildRegionAnalysis.ChildCallResult(value: value, changesProcessGroup: changesGroup)
  }

  /// Whether the C library (or the Swift runtime) defines the name: a project definition
  /// of it is an interposer or a test double.
  public func isLibraryFunction(_ name: String) -> Bool {
    if libraryNames.contains(name) { return true }
    if case .unknown = safety(of: name) { return effect(of: name) != .normal || lockFunction(name) != nil }
    return true
  }

  /// Whether a path names a file built for another platform (`port-aix.c`, `compat/win32/`).
  public func isOtherPlatformFile(_ path: String) -> Bool {
    let words = path.lowercased().split { $0 == "/" || $0 == "-" || $0 == "_" || $0 == "." }
    return words.contains { process.otherPlatformNames.contains(String($0)) }
  }

  /// How the program graph links names, per this knowledge.
  public var linkPolicy: LinkPolicy {
    let knowledge = self
    var policy = LinkPolicy(
      isLibraryFunction: { knowledge.isLibraryFunction($0) }, isOtherPlatformFile: { knowledge.isOtherPlatformFile($0) }
    )
    let swiftNames = Set(swift.unsafe.keys).union(swift.safe)
    policy.isSwiftLibraryMethod = { swiftNames.contains($0) }
    return policy
  }

  public func suggestion(for name: String) -> String? {
    process.suggestions[canonicalName(name)]
  }

  /// exec and _exit, and what the libc headers expand to without a real call (`errno`).
  public func isVforkAllowed(_ name: String) -> Bool {
    lookups.internalSafe.contains(name) || lookups.vforkAllowed.contains(canonicalName(name))
  }

  private static func unique(_ items: [String]) -> [String] {
    var seen = Set<String>()
    return items.filter { seen.insert($0).inserted }
  }
}

extension Knowledge {
  /// The lock function a call stands for, if any.
  public func lockFunction(_ name: String) -> LockFunction? {
    lockTables.functions[canonicalName(name)]
  }

  /// Names that start a context the rules judge, or that touch a lock: fork-like calls,
  /// clone, handler registrations (and `sigaction`'s handler fields), thread starts, lock
  /// functions, and the ways a mutex gets a type. Code that mentions none of them, and that
  /// no context calls, cannot change any finding.
  public var contextNames: Set<String> {
    var names = Set(process.forks.keys).union(process.clone.functions).union(process.signalActionFields)
    names.formUnion(process.signalRegistrations.map(\.function))
    names.formUnion(process.atforkRegistrations.map(\.function))
    names.formUnion(process.threadStarts.map(\.function))
    names.formUnion(process.threadStartingCalls)
    names.formUnion(lockTables.functions.keys)
    names.formUnion(lockTables.mutexTypes.keys)
    names.formUnion(lockTables.typeSetters.keys)
    return names
  }

  /// Whether a call to `name` takes a lock (waits for it, tries it, or holds it for a closure).
  public func takesLock(_ name: String) -> Bool {
    guard let role = lockFunction(name)?.role else { return false }
    return role == .acquire || role == .tryAcquire || role == .scoped
  }
}

extension Knowledge {
  /// Every file of the installed rules data, by name and content: what a kept result of
  /// the rules (a run record) is valid for.
  public static func dataFingerprint(directory: URL = KnowledgeDataBundle.dataDirectory) -> String {
    var hash = ContentHash()
    for name in ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted() {
      hash.add("data \(name)")
      hash.add(FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) ?? Data())
    }
    return hash.hex
  }
}
