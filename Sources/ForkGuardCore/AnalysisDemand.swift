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
  }

  /// Whether a call takes a lock (which makes a fork child's callers matter).
  private let takesLock: (String) -> Bool
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

  public init(takesLock: @escaping (String) -> Bool) {
    self.takesLock = takesLock
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
      for call in function.calls {
        guard let symbol = call.symbol else { continue }
        for callee in Self.aliases(of: symbol) { callers[callee, default: []].insert(function.symbol) }
      }
    }
    for function in arrived {
      if reachable.contains(function.symbol) { expand(function) }
      if function.calls.contains(where: { call in call.symbol.map { upward.contains($0) } ?? false }) {
        markUpward(function.symbol)
      }
    }
    for region in facts.childRegions {
      if region.kind == .fork { forkRegions.append(region) }
      for call in region.calls { markReachable(call.symbol) }
    }
    for registration in facts.registrations { markReachable(registration.handler) }
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
  }

  private func childTakesLock(_ region: ChildRegion) -> Bool {
    var seen = Set<SymbolID>()
    var pendingCalls = region.calls
    while let call = pendingCalls.popLast() {
      if takesLock(call.callee) { return true }
      guard let symbol = call.symbol else { continue }
      for alias in Self.aliases(of: symbol) where seen.insert(alias).inserted {
        pendingCalls += (functions[alias] ?? []).flatMap(\.calls)
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

  private mutating func want(_ item: Want) {
    if wanted.insert(item).inserted { pending.append(item) }
  }

  /// A Swift call by name may land on a C function of that name (ProgramGraph links them).
  private static func aliases(of symbol: SymbolID) -> [SymbolID] {
    if symbol.hasPrefix("swift:") { return [symbol, "c:@F@" + symbol.dropFirst(6)] }
    return [symbol]
  }

  /// The name another file would define or call the function by; nil for a `static`
  /// function, which only its own translation unit can see.
  private static func linkName(_ symbol: SymbolID) -> String? {
    if symbol.hasPrefix("c:@F@") { return String(symbol.dropFirst(5)) }
    if symbol.hasPrefix("swift:") { return String(symbol.dropFirst(6)) }
    return nil
  }
}
