/// Finds, in one function, the code each fork child runs before exec or _exit.
///
/// The result of a fork-like call is tracked as the set of outcomes a path may still be on:
/// the child (0), the parent (> 0) or a failed fork (-1). Branches on the result variable
/// narrow the set; joins take the union. Code runs in the child when the child outcome is
/// still possible, so code between `fork()` and the first test of its result counts.
public struct ChildRegionAnalysis {
  public struct Region: Sendable {
    /// Index in `calls` of the fork-like call.
    public var forkCall: Int
    public var kind: ForkKind
    /// Indices of the calls the child may make, ascending.
    public var calls: [Int]
    public var returns: [SourceLocation]
    /// Stores to anything but locals declared after the fork or the fork's result variable.
    public var writes: [MemoryWrite]
  }

  fileprivate struct Outcomes: OptionSet, Hashable {
    let rawValue: UInt8
    static let child = Outcomes(rawValue: 1)
    static let parent = Outcomes(rawValue: 2)
    static let failed = Outcomes(rawValue: 4)
    static let all: Outcomes = [.child, .parent, .failed]
  }

  private struct State: Equatable {
    var forks: [Int: Outcomes] = [:]
    var bindings: [String: Int] = [:]
    /// Locals declared since each fork: the child owns those even after vfork.
    var declaredSince: [Int: Set<String>] = [:]

    func merged(with other: State?) -> State {
      guard let other else { return self }
      var result = self
      for (fork, outcomes) in other.forks { result.forks[fork, default: []].formUnion(outcomes) }
      // A binding survives a join when the other path agrees, or never ran that fork (there
      // the variable holds something else, but that path cannot be the fork's child).
      func keeps(_ variable: String, _ fork: Int, in path: State) -> Bool {
        path.bindings[variable] == fork || (path.bindings[variable] == nil && path.forks[fork] == nil)
      }
      result.bindings = bindings.filter { keeps($0.key, $0.value, in: other) }
      for (variable, fork) in other.bindings where result.bindings[variable] == nil && keeps(variable, fork, in: self) {
        result.bindings[variable] = fork
      }
      for (fork, names) in other.declaredSince {
        result.declaredSince[fork] = (declaredSince[fork] ?? names).intersection(names)
      }
      return result
    }

    var childForks: [Int] { forks.filter { $0.value.contains(.child) }.map(\.key) }
  }

  /// Where control leaves a node: falling through, or by a jump to an enclosing construct.
  private struct Exits {
    var next: State?
    var breaks: State?
    var continues: State?

    static func merge(_ a: State?, _ b: State?) -> State? {
      guard let a else { return b }
      return a.merged(with: b)
    }
  }

  private let effectOfCall: (Int) -> CallEffect
  private let locationOfCall: (Int) -> SourceLocation
  private var regionCalls: [Int: Set<Int>] = [:]
  private var regionReturns: [Int: [SourceLocation]] = [:]
  private var regionWrites: [Int: [MemoryWrite]] = [:]
  private var kinds: [Int: ForkKind] = [:]
  private var resultVariables: [Int: String] = [:]

  /// - Parameters:
  ///   - effectOfCall: what the call at an index does (from the knowledge base).
  ///   - bodyEnd: where control falls off the end of the function.
  public static func regions(
    of body: FlowNode, bodyEnd: SourceLocation, effectOfCall: @escaping (Int) -> CallEffect,
    locationOfCall: @escaping (Int) -> SourceLocation
  ) -> [Region] {
    var analysis = ChildRegionAnalysis(effectOfCall: effectOfCall, locationOfCall: locationOfCall)
    let exits = analysis.run(body, State())
    if let end = exits.next {
      analysis.leaveFunction(end, at: bodyEnd)
    }
    return analysis.kinds.keys.sorted().map { fork in
      Region(
        forkCall: fork, kind: analysis.kinds[fork]!,
        calls: (analysis.regionCalls[fork] ?? []).sorted(),
        returns: Array(Set(analysis.regionReturns[fork] ?? [])).sorted(),
        writes: Array(Set(analysis.regionWrites[fork] ?? [])).sorted { $0.location < $1.location })
    }
  }

  private init(
    effectOfCall: @escaping (Int) -> CallEffect, locationOfCall: @escaping (Int) -> SourceLocation
  ) {
    self.effectOfCall = effectOfCall
    self.locationOfCall = locationOfCall
  }

  private mutating func leaveFunction(_ state: State, at location: SourceLocation) {
    for fork in state.childForks { regionReturns[fork, default: []].append(location) }
  }

  private mutating func run(_ node: FlowNode, _ state: State) -> Exits {
    switch node {
    case .block(let nodes):
      var exits = Exits(next: state)
      for child in nodes {
        guard let current = exits.next else { break }
        let inner = run(child, current)
        exits.next = inner.next
        exits.breaks = Exits.merge(exits.breaks, inner.breaks)
        exits.continues = Exits.merge(exits.continues, inner.continues)
      }
      return exits

    case .call(let index, let result):
      return Exits(next: call(index, storingInto: result, state))

    case .branch(let condition, let thenNode, let elseNode):
      let thenExits = narrow(state, by: condition, holds: true).map { run(thenNode, $0) } ?? Exits()
      let elseExits = narrow(state, by: condition, holds: false).map { run(elseNode, $0) } ?? Exits()
      return Exits(
        next: Exits.merge(thenExits.next, elseExits.next),
        breaks: Exits.merge(thenExits.breaks, elseExits.breaks),
        continues: Exits.merge(thenExits.continues, elseExits.continues))

    case .switchOn(let variable, let arms):
      return runSwitch(variable: variable, arms: arms, state)

    case .loop(let body):
      var entry = state
      var exits = Exits()
      for _ in 0..<8 {
        exits = run(body, entry)
        let again = entry.merged(with: exits.next).merged(with: exits.continues)
        if again == entry { break }
        entry = again
      }
      return Exits(next: Exits.merge(entry, exits.breaks))

    case .jump(let jump):
      switch jump {
      case .returnFromFunction(let location):
        leaveFunction(state, at: location)
        return Exits()
      case .breakOut: return Exits(breaks: state)
      case .continueLoop: return Exits(continues: state)
      case .unstructured: return Exits()
      }

    case .write(let write):
      var next = state
      for fork in state.childForks {
        let ownedByChild =
          write.target == .local
          && (write.variable == resultVariables[fork]
            || state.declaredSince[fork]?.contains(write.variable ?? "") == true)
        if !ownedByChild { regionWrites[fork, default: []].append(write) }
      }
      if write.target == .local, let variable = write.variable {
        next.bindings[variable] = nil
      }
      return Exits(next: next)

    case .declare(let name):
      var next = state
      for fork in next.forks.keys { next.declaredSince[fork, default: []].insert(name) }
      next.bindings[name] = nil
      return Exits(next: next)
    }
  }

  private mutating func call(_ index: Int, storingInto result: String?, _ state: State) -> State? {
    for fork in state.childForks { regionCalls[fork, default: []].insert(index) }
    var next = state
    if let result { next.bindings[result] = nil }
    switch effectOfCall(index) {
    case .normal:
      return next
    case .fork(let kind):
      kinds[index] = kind
      next.forks[index] = .all
      next.declaredSince[index] = []
      if let result {
        next.bindings[result] = index
        resultVariables[index] = result
      }
      return next
    case .exec:
      // A fork child's region ends at exec. A vfork child's does not: if exec fails it is
      // still running on the parent's stack, and only _exit may follow.
      for fork in state.childForks where kinds[fork] == .fork {
        next.forks[fork]!.remove(.child)
        if next.forks[fork]!.isEmpty { return nil }
      }
      return next
    case .exitProcess:
      return nil
    }
  }

  private mutating func runSwitch(variable: String?, arms: [SwitchArm], _ state: State) -> Exits {
    let fork = variable.flatMap { state.bindings[$0] }
    var fallthroughState: State? = nil
    var exits = Exits()
    // Outcomes that an explicit case label takes, so `default` sees the rest.
    var labelled: Outcomes = []
    if let fork, let outcomes = state.forks[fork] {
      for arm in arms where !arm.isDefault {
        for outcome in [Outcomes.child, .parent, .failed]
        where outcomes.contains(outcome) && arm.values.contains(where: { Self.value($0, matches: outcome) })
          && Self.exactly(arm.values, outcome)
        {
          labelled.insert(outcome)
        }
      }
    }
    var anyDefault = false
    for arm in arms {
      var entry: State? = state
      if let fork, var narrowed = entry, let outcomes = narrowed.forks[fork] {
        if arm.isDefault {
          anyDefault = true
          narrowed.forks[fork] = outcomes.subtracting(labelled)
        } else {
          narrowed.forks[fork] = outcomes.filter { outcome in
            arm.values.contains { Self.value($0, matches: outcome) }
          }
        }
        entry = narrowed.forks[fork]!.isEmpty ? nil : narrowed
      }
      let start = Exits.merge(entry, fallthroughState)
      guard let start else { continue }
      let armExits = run(arm.body, start)
      fallthroughState = armExits.next
      exits.breaks = Exits.merge(exits.breaks, armExits.breaks)
      exits.continues = Exits.merge(exits.continues, armExits.continues)
    }
    var next = Exits.merge(fallthroughState, exits.breaks)
    if !anyDefault {
      // No default: values no case takes skip the body.
      var skipped = state
      if let fork, let outcomes = state.forks[fork] {
        skipped.forks[fork] = outcomes.subtracting(labelled)
        if !skipped.forks[fork]!.isEmpty { next = Exits.merge(next, skipped) }
      } else {
        next = Exits.merge(next, skipped)
      }
    }
    return Exits(next: next, breaks: nil, continues: exits.continues)
  }

  /// Whether a case value stands for the whole of an outcome (0 is the child; -1 the failure;
  /// a positive constant only one of many parent pids).
  private static func exactly(_ values: [Int], _ outcome: Outcomes) -> Bool {
    switch outcome {
    case .child: return values.contains(0)
    case .failed: return values.contains(-1)
    default: return false
    }
  }

  private static func value(_ value: Int, matches outcome: Outcomes) -> Bool {
    switch outcome {
    case .child: return value == 0
    case .failed: return value < 0
    default: return value > 0
    }
  }

  // MARK: Conditions, in three-valued logic per outcome

  private func narrow(_ state: State, by condition: Condition, holds: Bool) -> State? {
    var next = state
    for (variable, fork) in state.bindings {
      guard let outcomes = state.forks[fork] else { continue }
      let kept = outcomes.filter { outcome in
        let verdict = Self.evaluate(condition, variable: variable, outcome: outcome)
        return verdict == nil || verdict == holds
      }
      if kept.isEmpty { return nil }
      next.forks[fork] = kept
    }
    return next
  }

  /// true/false when the condition is decided for this outcome of `variable`, nil if not.
  private static func evaluate(_ condition: Condition, variable: String, outcome: Outcomes) -> Bool? {
    switch condition {
    case .compare(let name, let op, let constant):
      guard name == variable else { return nil }
      return compare(outcome, op, constant)
    case .truthy(let name):
      guard name == variable else { return nil }
      return compare(outcome, .notEqual, 0)
    case .not(let inner):
      return evaluate(inner, variable: variable, outcome: outcome).map { !$0 }
    case .and(let a, let b):
      let x = evaluate(a, variable: variable, outcome: outcome)
      let y = evaluate(b, variable: variable, outcome: outcome)
      if x == false || y == false { return false }
      if x == true && y == true { return true }
      return nil
    case .or(let a, let b):
      let x = evaluate(a, variable: variable, outcome: outcome)
      let y = evaluate(b, variable: variable, outcome: outcome)
      if x == true || y == true { return true }
      if x == false && y == false { return false }
      return nil
    case .unknown:
      return nil
    }
  }

  /// The child sees exactly 0 and a failed fork exactly -1; the parent sees some pid > 0.
  private static func compare(_ outcome: Outcomes, _ op: ComparisonOperator, _ constant: Int) -> Bool? {
    switch outcome {
    case .child: return apply(op, 0, constant)
    case .failed: return apply(op, -1, constant)
    default:
      // Any positive pid: decided only when every positive value agrees.
      if constant <= 0 {
        return apply(op, 1, constant)
      }
      return nil
    }
  }

  private static func apply(_ op: ComparisonOperator, _ a: Int, _ b: Int) -> Bool {
    switch op {
    case .equal: return a == b
    case .notEqual: return a != b
    case .less: return a < b
    case .lessOrEqual: return a <= b
    case .greater: return a > b
    case .greaterOrEqual: return a >= b
    }
  }
}

extension ChildRegionAnalysis.Outcomes {
  fileprivate func filter(_ keep: (ChildRegionAnalysis.Outcomes) -> Bool) -> ChildRegionAnalysis.Outcomes {
    var result: ChildRegionAnalysis.Outcomes = []
    for outcome in [ChildRegionAnalysis.Outcomes.child, .parent, .failed] where contains(outcome) && keep(outcome) {
      result.insert(outcome)
    }
    return result
  }
}
