/// Finds, in one function, the code each fork child runs until _exit (or another call that
/// never returns). exec can fail, so the child goes on after it.
///
/// The result of a fork-like call is tracked as the set of outcomes a path may still be on:
/// the child (0), the parent (> 0) or a failed fork (-1). Tests of the result variable
/// narrow the set; joins take the union. Code runs in the child when the child outcome is
/// still possible, so code between `fork()` and the first test of its result counts.
public struct ChildRegionAnalysis: FlowDomain {
  public struct Region: Sendable {
    /// Index in `calls` of the fork-like call.
    public var forkCall: Int
    public var kind: ForkKind
    /// Indices of the calls the child may make, ascending.
    public var calls: [Int]
    public var returns: [SourceLocation]
    /// Stores to anything but locals declared after the fork or the fork's result variable.
    public var writes: [MemoryWrite]
    /// The function returns this fork's result with the child still possible.
    public var returnsForkResult: Bool
  }

  enum Outcome: CaseIterable {
    case child, parent, failed

    var value: AbstractValue {
      switch self {
      case .child: return .exactly(0)
      case .parent: return .positive
      case .failed: return .exactly(-1)
      }
    }
  }

  /// What a call returns in a fork child that has not changed its process group (git's
  /// daemonize: `if (setsid() == -1) die_errno(…)` right after the fork cannot be taken,
  /// since a fork child is never a process group leader, setsid's only EPERM).
  public struct ChildCallResult: Hashable, Sendable {
    public var value: AbstractValue?
    public var changesProcessGroup: Bool

    public init(value: AbstractValue?, changesProcessGroup: Bool) {
      self.value = value
      self.changesProcessGroup = changesProcessGroup
    }
  }

  struct ChildValue: Equatable {
    var fork: Int
    var value: AbstractValue
  }

  public struct State: Equatable {
    var forks: [Int: Set<Outcome>] = [:]
    /// The forks whose result a variable holds: one, or several when paths that made
    /// different forks meet (`pid = ls ? fork() : vfork()`).
    var bindings: [String: Set<Int>] = [:]
    /// Call results known because the path is surely a fork's child: variable to value.
    var childValues: [String: ChildValue] = [:]
    /// Forks whose child changed its process group on this path.
    var groupChanged: Set<Int> = []
    /// Locals declared since each fork: the child owns those even after vfork.
    var declaredSince: [Int: Set<String>] = [:]

    var childForks: [Int] { forks.filter { $0.value.contains(.child) }.map(\.key) }
  }

  private let effectOfCall: (Int) -> CallEffect
  private let childCallResult: (Int) -> ChildCallResult?
  private var regionCalls: [Int: Set<Int>] = [:]
  private var regionReturns: [Int: [SourceLocation]] = [:]
  private var regionWrites: [Int: [MemoryWrite]] = [:]
  private var kinds: [Int: ForkKind] = [:]
  private var resultVariables: [Int: String] = [:]
  /// Set when the function returns a fork's result on a path where it may be the child:
  /// the function is a fork wrapper.
  public private(set) var returnedForkKind: ForkKind?
  private var forksReturned = Set<Int>()

  /// - Parameters:
  ///   - effectOfCall: what the call at an index does (from the knowledge base).
  ///   - bodyEnd: where control falls off the end of the function.
  ///   - childCallResult: what the call at an index returns in a fresh fork child.
  public static func regions(
    of body: FlowNode, bodyEnd: SourceLocation, childCallResult: @escaping (Int) -> ChildCallResult? = { _ in nil },
    effectOfCall: @escaping (Int) -> CallEffect
  ) -> [Region] {
    run(body, bodyEnd: bodyEnd, childCallResult: childCallResult, effectOfCall: effectOfCall).regions
  }

  /// The analysis after running over a whole body.
  public static func run(
    _ body: FlowNode, bodyEnd: SourceLocation, childCallResult: @escaping (Int) -> ChildCallResult? = { _ in nil },
    effectOfCall: @escaping (Int) -> CallEffect
  ) -> ChildRegionAnalysis {
    var interpreter = FlowInterpreter(
      domain: ChildRegionAnalysis(effectOfCall: effectOfCall, childCallResult: childCallResult))
    interpreter.runFunction(body, from: State(), bodyEnd: bodyEnd)
    return interpreter.domain
  }

  var regions: [Region] {
    let analysis = self
    return analysis.kinds.keys.sorted().map { fork in
      Region(
        forkCall: fork, kind: analysis.kinds[fork]!,
        calls: (analysis.regionCalls[fork] ?? []).sorted(),
        returns: Array(Set(analysis.regionReturns[fork] ?? [])).sorted(),
        writes: Array(Set(analysis.regionWrites[fork] ?? [])).sorted { $0.location < $1.location },
        returnsForkResult: analysis.forksReturned.contains(fork))
    }
  }

  init(
    effectOfCall: @escaping (Int) -> CallEffect, childCallResult: @escaping (Int) -> ChildCallResult? = { _ in nil }
  ) {
    self.effectOfCall = effectOfCall
    self.childCallResult = childCallResult
  }

  public func merge(_ a: State, _ b: State) -> State {
    var result = a
    for (fork, outcomes) in b.forks { result.forks[fork, default: []].formUnion(outcomes) }
    // A binding survives a join when the other path binds the variable to forks too (then
    // it holds one of theirs), or never ran those forks (there the variable holds
    // something else, but that path cannot be their child).
    func keeps(_ variable: String, _ forks: Set<Int>, in path: State) -> Bool {
      path.bindings[variable] != nil || forks.allSatisfy { path.forks[$0] == nil }
    }
    result.bindings = [:]
    for (variable, forks) in a.bindings where keeps(variable, forks, in: b) {
      result.bindings[variable] = forks.union(b.bindings[variable] ?? [])
    }
    for (variable, forks) in b.bindings where a.bindings[variable] == nil && keeps(variable, forks, in: a) {
      result.bindings[variable] = forks
    }
    for (fork, names) in b.declaredSince {
      result.declaredSince[fork] = (a.declaredSince[fork] ?? names).intersection(names)
    }
    result.childValues = a.childValues.filter { b.childValues[$0.key] == $0.value }
    result.groupChanged = a.groupChanged.union(b.groupChanged)
    return result
  }

  public mutating func leave(_ state: State, at location: SourceLocation) {
    for fork in state.childForks { regionReturns[fork, default: []].append(location) }
  }

  public mutating func call(_ index: Int, result: String?, _ state: State) -> State? {
    for fork in state.childForks { regionCalls[fork, default: []].insert(index) }
    var next = state
    if let result {
      next.bindings[result] = nil
      next.childValues[result] = nil
    }
    if let known = childCallResult(index) {
      for fork in state.childForks where state.forks[fork] == [.child] {
        if let result, let value = known.value, !state.groupChanged.contains(fork) {
          next.childValues[result] = ChildValue(fork: fork, value: value)
        }
        if known.changesProcessGroup { next.groupChanged.insert(fork) }
      }
    }
    switch effectOfCall(index) {
    case .normal:
      return next
    case .fork(let kind):
      kinds[index] = kind
      next.forks[index] = Set(Outcome.allCases)
      next.declaredSince[index] = []
      if let result {
        next.bindings[result] = [index]
        resultVariables[index] = result
      }
      return next
    case .exec:
      // exec returns when it fails, and the child goes on: for a fork child as for a vfork
      // child, whose next call must then be _exit.
      return next
    case .exitProcess:
      return nil
    }
  }

  public mutating func write(_ write: MemoryWrite, _ state: State) -> State {
    var next = state
    for fork in state.childForks {
      let ownedByChild =
        write.target == .local
        && (write.variable == resultVariables[fork]
          || state.declaredSince[fork]?.contains(write.variable ?? "") == true)
      if !ownedByChild { regionWrites[fork, default: []].append(write) }
    }
    // A store to where a fork's result is kept overwrites it.
    next.bindings[write.variable ?? write.text] = nil
    next.childValues[write.variable ?? write.text] = nil
    return next
  }

  public mutating func declare(_ variable: String, _ state: State) -> State {
    var next = state
    for fork in next.forks.keys { next.declaredSince[fork, default: []].insert(variable) }
    next.bindings[variable] = nil
    next.childValues[variable] = nil
    return next
  }

  public mutating func returnsValue(of variable: String, _ state: State) {
    for fork in (state.bindings[variable] ?? []).sorted() where state.forks[fork]?.contains(.child) == true {
      returnedForkKind = kinds[fork]
      forksReturned.insert(fork)
    }
  }

  public func narrow(_ state: State, by condition: Condition, holds: Bool) -> State? {
    var next = state
    for (variable, forks) in state.bindings {
      // The variable holds one of these forks' results: the path is gone only when none
      // of them can give a value that passes.
      var anyKept = false
      for fork in forks {
        guard let outcomes = state.forks[fork] else {
          anyKept = true
          continue
        }
        let kept = outcomes.filter { $0.value.survives(condition, variable: variable, holds: holds) }
        anyKept = anyKept || !kept.isEmpty
        next.forks[fork] = kept
      }
      if !anyKept { return nil }
    }
    for (variable, known) in state.childValues where next.forks[known.fork] == [.child] {
      let verdict = AbstractValue.evaluate(condition) { $0 == variable ? known.value : nil }
      if let verdict, verdict != holds { return nil }
    }
    return next
  }
}

extension ChildRegionAnalysis {
  /// The child regions of a function's forks, as facts: what every front end records.
  /// The child regions a front end records from the library data alone (which files to
  /// parse depends on them); the rules use `ProcessModel`'s, made with the linked program.
  public static func childRegions(of function: FunctionFacts, knowledge: Knowledge) -> [ChildRegion] {
    let effects = function.calls.map { call -> CallEffect in
      guard call.symbol != nil else { return .normal }
      return call.neverReturns ? .exitProcess : knowledge.effect(of: call.callee)
    }
    let results = function.calls.map { $0.symbol == nil ? nil : knowledge.forkChildResult(of: $0.callee) }
    return childRegions(of: function, effects: effects, childResults: results)
  }

  /// The child regions of a function whose calls do what `effects` says.
  public static func childRegions(
    of function: FunctionFacts, effects: [CallEffect], childResults: [ChildCallResult?] = []
  ) -> [ChildRegion] {
    let calls = function.calls
    // Most functions never fork; interpreting their bodies would find nothing.
    guard effects.contains(where: \.isFork) else { return [] }
    let regions = regions(
      of: function.body, bodyEnd: function.bodyEnd,
      childCallResult: { $0 < childResults.count ? childResults[$0] : nil }
    ) { effects[$0] }
    return regions.map { region in
      let fork = calls[region.forkCall]
      return ChildRegion(
        kind: region.kind, forkCallee: fork.callee, forkLocation: fork.location, function: function.symbol,
        functionName: function.name, calls: region.calls.filter { $0 != region.forkCall }.map { calls[$0] },
        returns: region.returns, writes: region.writes, returnsForkResult: region.returnsForkResult)
    }
  }
}
