/// What calls do to the process once the program is linked, for both languages: which
/// project functions never return (declared so, or every path of which ends in one that
/// does), which return the result of a fork (fork wrappers, to any depth), and so where
/// each fork child runs.
public struct ProcessModel: Sendable {
  /// Identities (`ProgramGraph.functions` keys) of functions that never return.
  public let neverReturning: Set<SymbolID>
  /// Functions that return a fork's result with the child still possible, by the kind of
  /// fork they wrap.
  public let forkWrappers: [SymbolID: ForkKind]
  /// Every fork child, once each, in report order.
  public let childRegions: [ChildRegion]

  private let program: ProgramGraph
  private let knowledge: Knowledge
  /// What each library function called in the program does, by the name as called: asked
  /// per call, the knowledge resolves the name's aliases every time.
  private let libraryEffects: [String: CallEffect]
  /// Each function's effects, as the child regions were found with them.
  private let effectsByFunction: [SymbolID: [CallEffect]]

  public init(program: ProgramGraph, knowledge: Knowledge) {
    self.program = program
    self.knowledge = knowledge
    // By the graph's function indices (in symbol order): every function's effects are
    // asked three times below, and hashing symbol strings for each call was most of it.
    let count = program.functionCount
    let calleeIndices = (0..<count).map(program.calleeIndices(at:))
    var callers = [[Int]](repeating: [], count: count)
    var libraryEffects: [String: CallEffect] = [:]
    // What each call does when it runs no project code; nil where it does.
    var outsideEffects: [[CallEffect?]] = []
    outsideEffects.reserveCapacity(count)
    for index in 0..<count {
      let function = program.function(at: index)
      let callees = calleeIndices[index]
      var effects: [CallEffect?] = []
      effects.reserveCapacity(function.calls.count)
      for (position, call) in function.calls.enumerated() {
        let callee = Int(callees[position])
        if callee >= 0 {
          if callers[callee].last != index { callers[callee].append(index) }
          effects.append(nil)
          continue
        }
        guard call.symbol != nil else {
          effects.append(.normal)
          continue
        }
        if call.neverReturns {
          effects.append(.exitProcess)
          continue
        }
        let effect = libraryEffects[call.callee] ?? knowledge.effect(of: call.callee)
        libraryEffects[call.callee] = effect
        effects.append(effect)
      }
      outsideEffects.append(effects)
    }
    self.libraryEffects = libraryEffects
    func effects(_ index: Int, _ neverReturning: [Bool], _ wrappers: [ForkKind?]) -> [CallEffect] {
      let callees = calleeIndices[index]
      return outsideEffects[index].enumerated().map { position, outside in
        if let outside { return outside }
        let callee = Int(callees[position])
        if neverReturning[callee] { return .exitProcess }
        return wrappers[callee].map { .fork($0) } ?? .normal
      }
    }

    // Never-returning functions grow to a fixed point: each new one can end its callers.
    var neverReturning = (0..<count).map { program.function(at: $0).neverReturns }
    var pending = Array(0..<count)
    let noWrappers = [ForkKind?](repeating: nil, count: count)
    while let index = pending.popLast() {
      guard !neverReturning[index] else { continue }
      let function = program.function(at: index)
      let calls = effects(index, neverReturning, noWrappers)
      guard calls.contains(.exitProcess), !Self.canReturn(function, effects: calls) else { continue }
      neverReturning[index] = true
      pending.append(contentsOf: callers[index].sorted())
    }

    // Fork wrappers likewise: a caller that returns a wrapper's result wraps it too.
    var wrappers = noWrappers
    pending = Array(0..<count)
    while let index = pending.popLast() {
      guard wrappers[index] == nil else { continue }
      let calls = effects(index, neverReturning, wrappers)
      guard calls.contains(where: \.isFork) else { continue }
      let function = program.function(at: index)
      let analysis = ChildRegionAnalysis.run(function.body, bodyEnd: function.bodyEnd) { calls[$0] }
      guard let kind = analysis.returnedForkKind else { continue }
      wrappers[index] = kind
      pending.append(contentsOf: callers[index].sorted())
    }

    var regions: [ChildRegion] = []
    var seen = Set<SourceLocation>()
    var effectsByFunction: [SymbolID: [CallEffect]] = [:]
    var neverReturningSymbols = Set<SymbolID>()
    var wrapperSymbols: [SymbolID: ForkKind] = [:]
    for index in 0..<count {
      let function = program.function(at: index)
      if neverReturning[index] { neverReturningSymbols.insert(function.symbol) }
      if let kind = wrappers[index] { wrapperSymbols[function.symbol] = kind }
      let calls = effects(index, neverReturning, wrappers)
      effectsByFunction[function.symbol] = calls
      guard calls.contains(where: \.isFork) else { continue }
      // A library call's result in a fresh child (setsid cannot fail there); a project's
      // own definition of the name decides for itself.
      let callees = calleeIndices[index]
      let results = function.calls.indices.map { position in
        callees[position] >= 0 ? nil : knowledge.forkChildResult(of: function.calls[position].callee)
      }
      for region in ChildRegionAnalysis.childRegions(of: function, effects: calls, childResults: results)
      where seen.insert(region.forkLocation).inserted {
        var region = region
        // A wrapper's child goes on in its caller, where the call is the fork.
        if region.returnsForkResult { region.returns = [] }
        regions.append(region)
      }
    }
    self.neverReturning = neverReturningSymbols
    self.forkWrappers = wrapperSymbols
    self.childRegions = regions.sorted { $0.forkLocation < $1.forkLocation }
    self.effectsByFunction = effectsByFunction
  }

  /// What a call does: a project definition decides (it never returns, wraps a fork, or
  /// neither), else the declaration and the library data.
  public func effect(of call: CallSite) -> CallEffect {
    guard call.symbol != nil else { return .normal }
    return Self.effect(
      of: call, definition: program.definition(of: call)?.symbol, knowledge, libraryEffects, neverReturning,
      forkWrappers)
  }

  /// What each of `function`'s calls does, in order.
  public func effects(of function: FunctionFacts) -> [CallEffect] {
    if let known = effectsByFunction[function.symbol], known.count == function.calls.count { return known }
    return Self.effects(of: function, program, knowledge, libraryEffects, neverReturning, forkWrappers)
  }

  public func childRegions(_ kind: ForkKind) -> [ChildRegion] { childRegions.filter { $0.kind == kind } }

  /// Whether the function never returns.
  public func neverReturns(_ function: FunctionFacts) -> Bool { neverReturning.contains(function.symbol) }
  /// The same, by the function's symbol.
  public func neverReturns(symbol: SymbolID) -> Bool { neverReturning.contains(symbol) }

  /// `definition`: the symbol of the call's definition in the project, if any.
  private static func effect(
    of call: CallSite, definition: SymbolID?, _ knowledge: Knowledge, _ library: [String: CallEffect],
    _ neverReturning: Set<SymbolID>, _ wrappers: [SymbolID: ForkKind]
  ) -> CallEffect {
    guard call.symbol != nil else { return .normal }
    if let definition {
      if neverReturning.contains(definition) { return .exitProcess }
      if let kind = wrappers[definition] { return .fork(kind) }
      return .normal
    }
    if call.neverReturns { return .exitProcess }
    return library[call.callee] ?? knowledge.effect(of: call.callee)
  }

  private static func effects(
    of function: FunctionFacts, _ program: ProgramGraph, _ knowledge: Knowledge, _ library: [String: CallEffect],
    _ neverReturning: Set<SymbolID>, _ wrappers: [SymbolID: ForkKind]
  ) -> [CallEffect] {
    let callees = program.callees(of: function)
    return function.calls.indices.map { index in
      effect(
        of: function.calls[index], definition: callees.symbol(at: index), knowledge, library, neverReturning, wrappers)
    }
  }

  /// Whether some path reaches the end of the body or a return. A `goto` or `longjmp`
  /// the flow form does not follow may lead anywhere: a function where one is reached is
  /// taken to return. (Code only a jump leads to is reached through a jump the flow reaches
  /// first, so the reached ones are all that count.)
  private static func canReturn(_ function: FunctionFacts, effects: [CallEffect]) -> Bool {
    var interpreter = FlowInterpreter(domain: Reachability(effects: effects))
    interpreter.runFunction(function.body, from: true, bodyEnd: function.bodyEnd)
    return interpreter.domain.returns
  }

  /// Only whether control gets somewhere.
  private struct Reachability: FlowDomain {
    let effects: [CallEffect]
    var returns = false
    func merge(_ a: Bool, _ b: Bool) -> Bool { a || b }
    func call(_ index: Int, result: String?, _ state: Bool) -> Bool? { effects[index] == .exitProcess ? nil : state }
    func write(_ write: MemoryWrite, _ state: Bool) -> Bool { state }
    func declare(_ variable: String, _ state: Bool) -> Bool { state }
    func narrow(_ state: Bool, by condition: Condition, holds: Bool) -> Bool? { state }
    mutating func leave(_ state: Bool, at location: SourceLocation) { returns = true }
    mutating func jumpsAway(_ state: Bool) { returns = true }
  }
}

extension CallEffect {
  public var isFork: Bool {
    if case .fork = self { return true }
    return false
  }
}
