/// The functions the rules can reach, grown as files' facts arrive, and what is still
/// missing: definitions of functions they call, and the files that may call or feed them.
///
/// Every rule starts from a context — a fork or vfork child, a signal, atfork, clone or
/// thread entry — and walks down the call graph; the lock rules also walk up from a fork
/// whose child takes a lock, to the callers that may hold it. A file none of these walks
/// reaches changes no result, so it need not be parsed. The driver parses the files that
/// mention a context's function, then asks this for the names still wanted, until nothing
/// is.
public struct AnalysisDemand {
  public enum Want: Hashable, Sendable {
    /// A definition of this function, wherever it is.
    case definition(String)
    /// Every file that mentions the name: callers of a function, stores to a variable.
    case mention(String)
    /// Every file whose own text spells the name, a header it reads aside: the callers of a
    /// library function a project header wraps in a macro every file reads (openssh's
    /// `#define setlinebuf(a) (setvbuf((a), NULL, _IOLBF, 0))` in bsd-misc.h).
    case spelling(String)
  }

  /// Whether a call takes a lock (which makes a fork child's callers matter).
  private var takesLock: NameAnswers
  /// Every distinct definition of each function: a project of several programs may define
  /// one name in several files, and which one ProgramGraph keeps depends on what is parsed.
  private var functions: [SymbolID: [FunctionFacts]] = [:]
  private var definitionPlaces = Set<SourceLocation>()
  private var reachable = Set<SymbolID>()
  private var handlerVariables = Set<SymbolID>()
  private var storesByVariable: [SymbolID: [FunctionReference]] = [:]
  private var callers: [SymbolID: Set<SymbolID>] = [:]
  private var upward = Set<SymbolID>()
  private var forkRegions: [ChildRegion] = []
  private var pending: [Want] = []
  private var wanted = Set<Want>()

  /// Functions on a path from a program's entry to a fork or a thread start: whether a
  /// thread can run at the fork depends on what comes first on those paths.
  private var ancestors = Set<SymbolID>()
  /// Library calls whose making anywhere in a program changes how its contexts are judged
  /// (leaving the C locale, `AnalysisInput.leavesCLocale`; giving stderr a buffer,
  /// `AnalysisInput.buffersStderr`), and the functions that may make one: each one's callers
  /// are wanted, up to the programs' entries.
  private let programWideCalls: Set<String>
  /// Whether a call to one of them makes such a change (`setvbuf (stderr, …)` does,
  /// `setvbuf (log_file, …)` does not).
  private let makesProgramWideChange: (CallSite) -> Bool
  private var programWideCallers = Set<SymbolID>()
  /// Whether a library call starts a thread.
  private var startsThread: NameAnswers
  /// Registration wrappers (a parameter reaches a registration) and the arguments they
  /// register; the function values their callers pass are handlers.
  private var wrapperArguments: [SymbolID: Set<Int>] = [:]
  private var callsPassingFunctions: [(caller: SymbolID, call: CallSite)] = []

  /// Whether a library function is unsafe in a fork child (so whether a thread can be
  /// running at the fork matters), and whether a name is the C library's.
  private var isUnsafe: NameAnswers
  private let isLibraryFunction: (String) -> Bool
  /// Functions that start a thread: their way from the entry matters once a fork's does.
  private var threadStarters = Set<SymbolID>()
  /// Whether any input may start a thread (a scan found a thread-start name, or there is
  /// Swift code). When none can, a fork a `main` covers is single-threaded whatever the way
  /// to it, and its callers need not be parsed to judge it.
  private let threadsPossible: Bool

  public init(
    takesLock: @escaping (String) -> Bool, startsThread: @escaping (String) -> Bool = { _ in false },
    isUnsafe: @escaping (String) -> Bool = { _ in true },
    isLibraryFunction: @escaping (String) -> Bool = { _ in false },
    threadsPossible: Bool = true, programWideCalls: Set<String> = [],
    makesProgramWideChange: @escaping (CallSite) -> Bool = { _ in true }, spelledProgramWideCalls: Set<String> = []
  ) {
    self.programWideCalls = programWideCalls
    self.makesProgramWideChange = makesProgramWideChange
    self.threadsPossible = threadsPossible
    self.takesLock = NameAnswers(takesLock)
    self.startsThread = NameAnswers(startsThread)
    self.isUnsafe = NameAnswers(isUnsafe)
    self.isLibraryFunction = isLibraryFunction
    // The programs' entries: which code a `main` covers decides how its forks are judged.
    want(.definition("main"))
    // Whether a program may leave the C locale decides how its message look-ups are judged
    // (`AnalysisInput.leavesCLocale`), whether it may give stderr a buffer how its writes to
    // stderr are (`AnalysisInput.buffersStderr`): the code that may, and the way to it from a
    // `main`.
    // Calls to the stream-buffering functions are looked for where a file spells them: a
    // compat header's macro naming `setvbuf` does not make every file that reads it a caller.
    for name in programWideCalls.sorted() {
      want(spelledProgramWideCalls.contains(name) ? .spelling(name) : .mention(name))
    }
  }

  /// The wants found since the last call.
  public mutating func takeWants() -> [Want] {
    defer { pending = [] }
    return pending
  }

  public mutating func add(_ facts: FileFacts) {
    var arrived: [FunctionFacts] = []
    for function in facts.functions where definitionPlaces.insert(function.location).inserted {
      functions[function.symbol, default: []].append(function)
      arrived.append(function)
      // By index: a `CallSite` copied out of the array is a dozen references retained.
      for index in function.calls.indices {
        guard let symbol = function.calls[index].symbol else { continue }
        callers[symbol, default: []].insert(function.symbol)
        // A Swift call by name may land on C (`SymbolSpelling.linkAliases`).
        if let name = SymbolSpelling.swiftCallName(symbol) {
          callers[SymbolSpelling.cExternal(name), default: []].insert(function.symbol)
        }
        if !function.calls[index].functionArguments.isEmpty {
          let call = function.calls[index]
          callsPassingFunctions.append((function.symbol, call))
          passFunctions(from: function.symbol, call)
        }
      }
    }
    for function in arrived {
      if reachable.contains(function.symbol) { expand(function) }
      if !upward.isEmpty, function.calls.contains(where: { call in call.symbol.map { upward.contains($0) } ?? false }) {
        markUpward(function.symbol)
      }
      if function.calls.contains(where: { startsThread($0.callee) }) { threadStarters.insert(function.symbol) }
      if !programWideCalls.isEmpty,
        function.calls.contains(where: { call in
          call.symbol.map { programWideCallers.contains($0) } ?? false
            || (call.symbol != nil && programWideCalls.contains(call.callee) && makesProgramWideChange(call))
        })
      {
        markProgramWideCaller(function.symbol)
      }
      if !ancestors.isEmpty,
        function.calls.contains(where: { call in call.symbol.map { ancestors.contains($0) } ?? false })
      {
        markAncestors(function.symbol)
      }
    }
    for region in facts.childRegions {
      if region.kind == .fork { forkRegions.append(region) }
      for call in region.calls { markReachable(call.symbol) }
      // A fork wrapper's child goes on in its callers (a compat file's `forkpty` is not
      // what callers elsewhere link to).
      if region.returnsForkResult, !(Self.linkName(region.function).map(isLibraryFunction) ?? false) {
        markUpward(region.function)
      }
    }
    for registration in facts.registrations {
      if case .parameter(let index, _) = registration.handler, let wrapper = registration.registeringSymbol {
        markWrapper(wrapper, argument: index)
      }
      markReachable(registration.handler)
      if registration.kind == .threadStart, let symbol = registration.registeringSymbol {
        threadStarters.insert(symbol)
      }
    }
    for store in facts.pointerStores {
      storesByVariable[store.variable, default: []].append(store.value)
      if handlerVariables.contains(store.variable) { markReachable(store.value) }
    }
  }

  /// Called when every wanted file has been parsed: a fork child that takes a lock makes
  /// the callers of its forking function matter (one of them may hold the lock).
  public mutating func settle() {
    for region in forkRegions where !upward.contains(region.function) && childTakesLock(region) {
      markUpward(region.function)
    }
    // Whether a thread can run at a fork matters only for a child that makes an unsafe
    // call: then the way from the entry to the fork, and to every thread start, is wanted.
    var judged = false
    let mainFolders = Set((functions[SymbolSpelling.cExternal("main")] ?? []).map { Self.folder(of: $0.location.file) })
    func coveredByMain(_ file: String) -> Bool {
      let folder = Self.folder(of: file)
      return mainFolders.contains { folder == $0 || folder.hasPrefix($0 + "/") }
    }
    for region in forkRegions
    where !ancestors.contains(region.function) && (childMayCallUnsafe(region) || childTakesLock(region)) {
      if !threadsPossible, coveredByMain(region.forkLocation.file) { continue }
      markAncestors(region.function)
      judged = true
    }
    if judged || !ancestors.isEmpty {
      for symbol in threadStarters.sorted() { markAncestors(symbol) }
    }
  }

  private mutating func childMayCallUnsafe(_ region: ChildRegion) -> Bool {
    Self.anyCall(below: region, in: functions) { call, defined in
      call.symbol != nil && !defined && isUnsafe(call.callee)
    }
  }

  private mutating func childTakesLock(_ region: ChildRegion) -> Bool {
    Self.anyCall(below: region, in: functions) { call, _ in takesLock(call.callee) }
  }

  /// Whether a call the child makes, or one of the definitions known below it makes,
  /// passes `test` (given whether a definition of the callee is known). Calls are walked as
  /// the functions' own arrays, not copied: every fork is asked, over much of the graph.
  private static func anyCall(
    below region: ChildRegion, in functions: [SymbolID: [FunctionFacts]], _ test: (CallSite, _ defined: Bool) -> Bool
  ) -> Bool {
    var seen = Set<SymbolID>()
    var pending = [region.calls]
    while let calls = pending.popLast() {
      for call in calls {
        let aliases = call.symbol.map(Self.aliases(of:)) ?? []
        if test(call, aliases.contains { functions[$0] != nil }) { return true }
        for alias in aliases where seen.insert(alias).inserted {
          pending += (functions[alias] ?? []).map(\.calls)
        }
      }
    }
    return false
  }

  private mutating func markReachable(_ symbol: SymbolID?) {
    guard let symbol else { return }
    for alias in Self.aliases(of: symbol) where reachable.insert(alias).inserted {
      for function in functions[alias] ?? [] { expand(function) }
      // Even when one definition is known: a project of several programs may define the
      // function again elsewhere, and ProgramGraph keeps the first in path order.
      if let name = Self.linkName(alias) { want(.definition(name)) }
    }
  }

  private mutating func markReachable(_ reference: FunctionReference) {
    switch reference {
    case .function(let symbol, _):
      markReachable(symbol)
    case .variable(let symbol, let name):
      guard handlerVariables.insert(symbol).inserted else { return }
      // A local or a parameter (its symbol names its function) is stored to only there.
      if !symbol.contains("@F@") { want(.mention(name)) }
      for value in storesByVariable[symbol] ?? [] { markReachable(value) }
    case .parameter:
      // What the callers pass: found through the registration wrapper's call sites.
      break
    }
  }

  /// Each definition is expanded once: when it arrives if its symbol is reachable, else
  /// when its symbol becomes reachable.
  private mutating func expand(_ function: FunctionFacts) {
    for call in function.calls { markReachable(call.symbol) }
  }

  private mutating func markUpward(_ symbol: SymbolID) {
    guard upward.insert(symbol).inserted else { return }
    markReachable(symbol)
    if let name = Self.linkName(symbol) { want(.mention(name)) }
    for caller in Self.aliases(of: symbol).flatMap({ callers[$0] ?? [] }).sorted() { markUpward(caller) }
  }

  private mutating func markWrapper(_ symbol: SymbolID, argument: Int) {
    guard wrapperArguments[symbol, default: []].insert(argument).inserted else { return }
    if let name = Self.linkName(symbol) { want(.mention(name)) }
    for (caller, call) in callsPassingFunctions where call.symbol.map(Self.aliases(of:))?.contains(symbol) == true {
      passFunctions(from: caller, call)
    }
  }

  /// A call to a registration wrapper registers what it passes.
  private mutating func passFunctions(from caller: SymbolID, _ call: CallSite) {
    guard let symbol = call.symbol else { return }
    for callee in Self.aliases(of: symbol) {
      for argument in (wrapperArguments[callee] ?? []).sorted() {
        for reference in call.functionArguments[argument] ?? [] {
          if case .parameter(let index, _) = reference {
            markWrapper(caller, argument: index)
          } else {
            markReachable(reference)
          }
        }
      }
    }
  }

  private mutating func markAncestors(_ symbol: SymbolID) { wantCallers(of: symbol, marking: \.ancestors) }

  private mutating func markProgramWideCaller(_ symbol: SymbolID) {
    wantCallers(of: symbol, marking: \.programWideCallers)
  }

  /// Marks the function and, to any depth, its callers in `marked`, wanting the files that
  /// mention each (where callers not yet parsed are).
  private mutating func wantCallers(of symbol: SymbolID, marking marked: WritableKeyPath<Self, Set<SymbolID>>) {
    guard self[keyPath: marked].insert(symbol).inserted else { return }
    if let name = Self.linkName(symbol), name != "main", !isLibraryFunction(name) { want(.mention(name)) }
    for caller in Self.aliases(of: symbol).flatMap({ callers[$0] ?? [] }).sorted() {
      wantCallers(of: caller, marking: marked)
    }
  }

  private mutating func want(_ item: Want) {
    if wanted.insert(item).inserted { pending.append(item) }
  }

  private static func aliases(of symbol: SymbolID) -> [SymbolID] { SymbolSpelling.linkAliases(of: symbol) }
  private static func folder(of path: String) -> Substring { ProgramGraph.folder(of: path) }
  private static func linkName(_ symbol: SymbolID) -> String? { SymbolSpelling.linkName(symbol) }
}
