/// All files' facts linked by symbol: one call graph across files and languages.
public struct ProgramGraph: Sendable {
  public let files: [FileFacts]
  /// The definition of each symbol. A symbol defined twice (a `static inline` in a header
  /// seen by several translation units) keeps its first definition in path order.
  public let functions: [SymbolID: FunctionFacts]
  private let storesByVariable: [SymbolID: [FunctionReference]]

  public init(files: [FileFacts]) {
    let files = files.sorted { $0.path < $1.path }
    self.files = files
    var functions: [SymbolID: FunctionFacts] = [:]
    var stores: [SymbolID: [FunctionReference]] = [:]
    for file in files {
      for function in file.functions where functions[function.symbol] == nil {
        functions[function.symbol] = function
      }
      for store in file.pointerStores {
        if !(stores[store.variable]?.contains(store.value) ?? false) {
          stores[store.variable, default: []].append(store.value)
        }
      }
    }
    self.functions = functions
    self.storesByVariable = stores
  }

  /// The function a call runs. A Swift call by name (`swift:name`) that no Swift function
  /// defines is a call into C, across the bridge.
  public func definition(of call: CallSite) -> FunctionFacts? {
    call.symbol.flatMap(function(symbol:))
  }

  public func function(symbol: SymbolID) -> FunctionFacts? {
    if let function = functions[symbol] { return function }
    if symbol.hasPrefix("swift:") { return functions["c:@F@" + symbol.dropFirst(6)] }
    return nil
  }

  /// The functions a reference may name: itself, or everything ever stored in the variable
  /// (following variables that were assigned from other variables), in a stable order.
  public func functions(for reference: FunctionReference) -> [(symbol: SymbolID, name: String)] {
    var result: [(SymbolID, String)] = []
    var seenFunctions = Set<SymbolID>()
    var seenVariables = Set<SymbolID>()
    var pending = [reference]
    while let next = pending.popLast() {
      switch next {
      case .function(let symbol, let name):
        if seenFunctions.insert(symbol).inserted { result.append((symbol, name)) }
      case .variable(let symbol, _):
        if seenVariables.insert(symbol).inserted {
          pending.append(contentsOf: (storesByVariable[symbol] ?? []).reversed())
        }
      }
    }
    return result
  }

  public var childRegions: [ChildRegion] { files.flatMap(\.childRegions) }
  public var registrations: [HandlerRegistration] { files.flatMap(\.registrations) }
}

/// A function that runs in a restricted context, with the first place it was registered.
public struct HandlerContext: Sendable {
  public var handler: FunctionFacts
  public var registration: HandlerRegistration
  /// Further registrations of the same handler for the same purpose.
  public var otherRegistrations: Int
}

extension ProgramGraph {
  /// One context per handler function and kind, however often it is registered; the
  /// earliest registration in report order speaks for all.
  public func handlerContexts(_ kinds: Set<HandlerRegistration.Kind>) -> [HandlerContext] {
    var byHandler: [String: HandlerContext] = [:]
    let sorted = Set(registrations).sorted { ($0.location, $0.kind.rawValue) < ($1.location, $1.kind.rawValue) }
    for registration in sorted where kinds.contains(registration.kind) {
      for (symbol, _) in functions(for: registration.handler) {
        guard let handler = function(symbol: symbol) else { continue }
        let key = registration.kind.rawValue + "\u{0}" + symbol
        if byHandler[key] != nil {
          byHandler[key]!.otherRegistrations += 1
        } else {
          byHandler[key] = HandlerContext(handler: handler, registration: registration, otherRegistrations: 0)
        }
      }
    }
    return byHandler.values.sorted {
      ($0.registration.location, $0.handler.name) < ($1.registration.location, $1.handler.name)
    }
  }

  /// Child regions, once each even when a header is seen by several translation units.
  public func uniqueChildRegions(_ kind: ForkKind) -> [ChildRegion] {
    var seen = Set<SourceLocation>()
    return childRegions.filter { $0.kind == kind && seen.insert($0.forkLocation).inserted }
      .sorted { $0.forkLocation < $1.forkLocation }
  }
}
