/// What a function does to locks, in its own terms: its parameters appear as `parameter`
/// references and are read in a caller's terms through the call's `lockArguments`.
public struct LockSummary: Equatable, Sendable {
  public var heldOnReturn: [LockReference: LockEvent] = [:]
  /// Of those, the ones held only when the function returns non-zero: it returns 0 on
  /// every path that does not hold them (dbus's `_dbus_lock`, a conditional lock wrapper).
  /// A caller treats the call like a trylock that succeeds with a non-zero result.
  public var heldOnlyWhenNonZero: Set<LockReference> = []
  /// Locks it unlocks or re-initialises without having locked them, on every path.
  public var releasedOnReturn: Set<LockReference> = []
  /// Every lock it or anything it calls locks (or tries to), with one witness each.
  public var acquires: [LockReference: LockEvent] = [:]
  /// Every lock it or anything it calls unlocks, with one witness each.
  public var releases: [LockReference: LockEvent] = [:]
  /// Locks that a fork child in it, or in anything it calls, locks.
  public var forkChildAcquires: [ForkChildUse] = []

  public var isEmpty: Bool {
    heldOnReturn.isEmpty && releasedOnReturn.isEmpty && acquires.isEmpty && releases.isEmpty
      && forkChildAcquires.isEmpty
  }
}

/// The part of a summary that depends on the paths through the function: what it returns
/// holding or having released (see `LockSummary`).
struct HoldSummary: Equatable, Sendable {
  var heldOnReturn: [LockReference: LockEvent] = [:]
  var heldOnlyWhenNonZero: Set<LockReference> = []
  var releasedOnReturn: Set<LockReference> = []

  var isEmpty: Bool { heldOnReturn.isEmpty && releasedOnReturn.isEmpty }

  func holdsTheSameLocks(as other: HoldSummary) -> Bool {
    Set(heldOnReturn.keys) == Set(other.heldOnReturn.keys) && heldOnlyWhenNonZero == other.heldOnlyWhenNonZero
      && releasedOnReturn == other.releasedOnReturn
  }
}

/// A lock call, and the calls that lead to it from the function it is reported for.
public struct LockEvent: Hashable, Sendable {
  public var call: CallSite
  /// The function containing `call`.
  public var function: String
  /// Calls from the reporting function down to `function`, outermost first. Kept as a
  /// shared list: every summary up the call graph prepends one link, in constant time.
  public var chain: [UnsafeCallSearch.Link] {
    var links: [UnsafeCallSearch.Link] = []
    var node = head
    while let current = node {
      links.append(current.link)
      node = current.next
    }
    return links
  }
  private var head: ChainNode?
  /// How many calls lead to the lock call; with the outermost link, what tells witnesses apart.
  private var depth: Int
  /// How many calls lead to the lock call.
  public var chainLength: Int { depth }

  /// Whether this is the better witness for a summary: an exclusive lock before a read
  /// lock (it conflicts with every holder), then the shorter chain. Preferring the shorter
  /// chain is what makes summaries of recursive functions settle: a first-found witness
  /// can come back around a cycle one call longer on every pass, and never converge.
  func isBetterWitness(than other: LockEvent, _ knowledge: Knowledge) -> Bool {
    let (read, otherRead) = (isReadLock(knowledge), other.isReadLock(knowledge))
    if read != otherRead { return otherRead }
    return depth < other.depth
  }

  final class ChainNode: Sendable {
    let link: UnsafeCallSearch.Link
    let next: ChainNode?
    init(link: UnsafeCallSearch.Link, next: ChainNode?) {
      self.link = link
      self.next = next
    }
  }

  public init(call: CallSite, function: String, chain: [UnsafeCallSearch.Link]) {
    self.call = call
    self.function = function
    self.head = chain.reversed().reduce(nil) { next, link in ChainNode(link: link, next: next) }
    self.depth = chain.count
  }

  /// Whether the call takes the lock shared (an rwlock read lock).
  public func isReadLock(_ knowledge: Knowledge) -> Bool {
    knowledge.lockFunction(call.callee)?.mode == "read"
  }

  /// Whether the call waits on a semaphore (`sem_wait` and its timed and try forms).
  public func isSemaphoreWait(_ knowledge: Knowledge) -> Bool {
    knowledge.lockFunction(call.callee)?.family == "semaphore"
  }

  /// Two holders conflict unless both only read.
  public func conflicts(with other: LockEvent, _ knowledge: Knowledge) -> Bool {
    !(isReadLock(knowledge) && other.isReadLock(knowledge))
  }

  func called(from call: CallSite, in caller: String) -> LockEvent {
    var event = self
    event.head = ChainNode(link: UnsafeCallSearch.Link(call: call, caller: caller), next: head)
    event.depth += 1
    return event
  }

  public static func == (a: LockEvent, b: LockEvent) -> Bool {
    a.call == b.call && a.function == b.function && a.depth == b.depth && a.head?.link == b.head?.link
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(call)
    hasher.combine(depth)
    hasher.combine(head?.link)
  }
}

/// A fork child (in some function) that locks `lock`.
public struct ForkChildUse: Hashable, Sendable {
  public var fork: CallSite
  public var forkFunction: String
  /// Calls from the summarised function to the function that forks.
  public var chainToFork: [UnsafeCallSearch.Link]
  public var lock: LockReference
  public var use: LockEvent
}

/// A lock the forking thread holds when it forks, that the child then locks.
public struct LockHeldAtFork: Hashable, Sendable {
  public var lock: LockReference
  public var acquisition: LockEvent
  /// The function whose flow holds the lock at the fork.
  public var holder: String
  public var fork: CallSite
  public var chainToFork: [UnsafeCallSearch.Link]
  public var use: LockEvent
}

/// Lock summaries of every function, computed to a fixed point over the call graph, and
/// the locks held across forks that the child then uses.
public struct LockAnalysis: Sendable {
  public let summaries: [SymbolID: LockSummary]
  public let heldAcrossFork: [LockHeldAtFork]
  /// Owner-checking mutexes (`recursive`, `errorcheck`) by lock.
  public let lockTypes: [LockReference: LockAttribute]

  private let reach: LockReach
  /// How many function flows ran to reach the fixed point (for tests and `--timings`).
  public let flowRuns: Int

  public init(program: ProgramGraph, process: ProcessModel, knowledge: Knowledge) {
    // The graph's index order is symbol order.
    let functions = (0..<program.functionCount).map(program.function(at:))
    var regionsByFunction: [SymbolID: [ChildRegion]] = [:]
    for region in process.childRegions(.fork) { regionsByFunction[region.function, default: []].append(region) }
    var callers: [SymbolID: [LockReach.Caller]] = [:]
    for function in functions {
      let callees = program.callees(of: function)
      for (index, call) in function.calls.enumerated() {
        if let callee = callees.symbol(at: index) {
          callers[callee, default: []].append(LockReach.Caller(function: function, call: call))
        }
      }
    }
    let reach = LockReach(
      functions: functions, callers: callers, regions: regionsByFunction, program: program, knowledge: knowledge)
    // What is held or released when a function returns depends on the paths through it, so
    // it is a fixed point of the flows; but only a function that calls a lock function, or
    // something that returns holding or having released a lock, has a lock state at all.
    // A worklist in callee-first order: a function runs again only when a callee's summary
    // changed, and its findings are those of its last run, made with its callees' final
    // summaries. The cap keeps a pathological graph from cycling forever.
    // The worklist by the graph's function indices: every function is looked at once at
    // least, and hashing its symbol and each callee's was most of the phase on a tree where
    // few functions touch a lock.
    let count = program.functionCount
    let calleeIndices = (0..<count).map(program.calleeIndices(at:))
    var callerIndices = [[Int]](repeating: [], count: count)
    for index in 0..<count {
      for callee in calleeIndices[index] where callee >= 0 && callerIndices[Int(callee)].last != index {
        callerIndices[Int(callee)].append(index)
      }
    }
    var queue = Self.calleesFirst(count: count, calleeIndices: calleeIndices)
    var queued = [Bool](repeating: true, count: count)
    var head = 0
    var holds: [SymbolID: HoldSummary] = [:]
    /// Whether the function at an index returns holding or having released a lock.
    var hasHolds = [Bool](repeating: false, count: count)
    var findingsBySymbol: [SymbolID: [LockHeldAtFork]] = [:]
    var budget = functions.count * 12
    var runs = 0
    var isLockFunction = NameAnswers { knowledge.lockFunction($0) != nil }
    while head < queue.count, budget > 0 {
      let index = queue[head]
      head += 1
      queued[index] = false
      let function = program.function(at: index)
      let callees = calleeIndices[index]
      let hasLockState = function.calls.indices.contains { position in
        let callee = callees[position]
        return callee >= 0 ? hasHolds[Int(callee)] : isLockFunction(function.calls[position].callee)
      }
      guard hasLockState else { continue }
      let symbol = function.symbol
      budget -= 1
      runs += 1
      // The flow reads the table; it must be gone before the table changes, or every
      // change copies the whole dictionary (quadratic on a large tree).
      let (summary, flowFindings) = { () -> (HoldSummary, [LockHeldAtFork]) in
        var flow = LockFlow(
          function: function, program: program, process: process, knowledge: knowledge, reach: reach, holds: holds)
        let summary = flow.summarize()
        return (summary, flow.findings)
      }()
      findingsBySymbol[symbol] = flowFindings
      // Callers run again only when what is held or released changed, not when a witness
      // did: around a cycle each pass can bring a witness back one call longer or shorter,
      // and waiting for those to settle ran git's 11,000 functions out of budget.
      let changed = !(holds[symbol] ?? HoldSummary()).holdsTheSameLocks(as: summary)
      holds[symbol] = summary
      hasHolds[index] = !summary.isEmpty
      if changed {
        for caller in callerIndices[index] where !queued[caller] {
          queued[caller] = true
          queue.append(caller)
        }
      }
    }
    var findings: [LockHeldAtFork] = []
    var seen = Set<String>()
    for function in functions {
      for finding in findingsBySymbol[function.symbol] ?? [] {
        let key =
          "\(finding.fork.location)|\(finding.lock.kind)|\(finding.lock.symbol)|\(finding.acquisition.call.location)"
        if seen.insert(key).inserted { findings.append(finding) }
      }
    }
    // Only functions with some lock state have a summary: an absent one is an empty one.
    var summaries: [SymbolID: LockSummary] = [:]
    var withState = Set(holds.keys)
    withState.formUnion(reach.acquires.keys)
    withState.formUnion(reach.releases.keys)
    withState.formUnion(reach.forkChildAcquires.keys)
    for symbol in withState {
      guard let function = program.functions[symbol] else { continue }
      let hold = holds[function.symbol] ?? HoldSummary()
      summaries[function.symbol] = LockSummary(
        heldOnReturn: hold.heldOnReturn, heldOnlyWhenNonZero: hold.heldOnlyWhenNonZero,
        releasedOnReturn: hold.releasedOnReturn, acquires: reach.acquires[function.symbol] ?? [:],
        releases: reach.releases[function.symbol] ?? [:],
        forkChildAcquires: reach.forkChildAcquires[function.symbol] ?? [])
    }
    self.reach = reach
    self.flowRuns = runs
    self.summaries = summaries
    self.heldAcrossFork = findings.sorted { $0.fork.location < $1.fork.location }
    var types: [LockReference: LockAttribute] = [:]
    for attribute in program.files.flatMap(\.lockAttributes) where types[attribute.lock] == nil {
      types[attribute.lock] = attribute
    }
    self.lockTypes = types
  }

  /// Function indices ordered so that callees come before their callers (cycles broken
  /// anywhere).
  static func calleesFirst(count: Int, calleeIndices: [[Int32]]) -> [Int] {
    var order: [Int] = []
    order.reserveCapacity(count)
    var visited = [Bool](repeating: false, count: count)
    for root in 0..<count where !visited[root] {
      // Iterative depth-first search: deep call chains must not overflow the stack.
      var stack: [(function: Int, next: Int)] = [(root, 0)]
      visited[root] = true
      while let (function, next) = stack.last {
        let callees = calleeIndices[function]
        if next < callees.count {
          stack[stack.count - 1].next += 1
          let callee = Int(callees[next])
          if callee >= 0, !visited[callee] {
            visited[callee] = true
            stack.append((callee, 0))
          }
        } else {
          order.append(function)
          stack.removeLast()
        }
      }
    }
    return order
  }

  /// Reads a callee's reference in the caller's terms; nil for the callee's own locals and
  /// for parameters the caller did not pass a lock to.
  public static func translate(_ lock: LockReference, at call: CallSite) -> LockReference? {
    switch lock.kind {
    case .parameter: return Int(lock.symbol).flatMap { call.lockArguments[$0] }
    case .local: return nil
    case .global: return lock
    case .field:
      // A field of a parameter's object is a field of the object the caller passes.
      guard let container = lock.container, let index = ObjectIdentity.parameterIndex(container) else { return lock }
      var translated = lock
      translated.container = call.objectArguments[index]
      return translated
    }
  }

  /// The locks a call takes, directly or through what it calls, in the caller's terms.
  public func acquisitions(
    of call: CallSite, in caller: String, program: ProgramGraph, knowledge: Knowledge
  ) -> [(LockReference, LockEvent)] {
    reach.acquisitions(of: call, in: caller, program: program, knowledge: knowledge)
  }
}

/// The lock state of one function's flow, with the fork-child state beside it so that a
/// lock held at a fork and then taken in that fork's child is seen.
struct LockFlow: FlowDomain {
  struct Hold: Equatable {
    var event: LockEvent
    /// The result variable the hold depends on, if any: a trylock's (held when it is 0), or
    /// a conditional lock wrapper's (held when it is not).
    var condition: String?
    var heldWhenZero = true
    /// Forks (call indices) made while the lock was held.
    var forks: Set<Int> = []
  }

  struct State: Equatable {
    var child = ChildRegionAnalysis.State()
    var held: [LockReference: Hold] = [:]
    /// Released without having been taken here, on every path so far.
    var released: Set<LockReference> = []
  }

  let function: FunctionFacts
  let program: ProgramGraph
  let knowledge: Knowledge
  let reach: LockReach
  let holds: [SymbolID: HoldSummary]
  private let effects: [CallEffect]
  private var children: ChildRegionAnalysis
  private var exitHeld: [LockReference: LockEvent] = [:]
  private var exitReleased: Set<LockReference>?
  /// The constant the function is about to return, set just before the return's jump.
  private var returning: Int?
  /// Locks held at some exit that returns 0 (or an unknown value), and at exits returning
  /// another constant.
  private var heldAtZeroOrUnknownExits = Set<LockReference>()
  private var heldAtNonZeroExits = Set<LockReference>()
  private var hasZeroExit = false
  private(set) var findings: [LockHeldAtFork] = []

  init(
    function: FunctionFacts, program: ProgramGraph, process: ProcessModel, knowledge: Knowledge, reach: LockReach,
    holds: [SymbolID: HoldSummary]
  ) {
    self.function = function
    self.program = program
    self.knowledge = knowledge
    self.reach = reach
    self.holds = holds
    let effects = process.effects(of: function)
    self.effects = effects
    children = ChildRegionAnalysis(effectOfCall: { effects[$0] })
  }

  mutating func summarize() -> HoldSummary {
    var interpreter = FlowInterpreter(domain: self)
    interpreter.runFunction(function.body, from: State(), bodyEnd: function.bodyEnd)
    self = interpreter.domain
    var summary = HoldSummary()
    summary.heldOnReturn = exitHeld
    if hasZeroExit {
      summary.heldOnlyWhenNonZero = heldAtNonZeroExits.subtracting(heldAtZeroOrUnknownExits)
    }
    summary.releasedOnReturn = exitReleased ?? []
    return summary
  }

  private func acquisitions(of call: CallSite) -> [(LockReference, LockEvent)] {
    reach.acquisitions(of: call, in: function.name, program: program, knowledge: knowledge)
  }

  // MARK: FlowDomain

  func merge(_ a: State, _ b: State) -> State {
    var result = a
    result.child = children.merge(a.child, b.child)
    for (lock, hold) in b.held {
      if var existing = result.held[lock] {
        if existing.condition != hold.condition || existing.heldWhenZero != hold.heldWhenZero {
          existing.condition = nil
        }
        // The shorter witness, so that a lock held around a cycle settles on its shortest way.
        if hold.event.chainLength < existing.event.chainLength { existing.event = hold.event }
        existing.forks.formUnion(hold.forks)
        result.held[lock] = existing
      } else {
        result.held[lock] = hold
      }
    }
    result.released = a.released.intersection(b.released)
    return result
  }

  mutating func call(_ index: Int, result: String?, _ state: State) -> State? {
    let call = function.calls[index]
    var next = state
    // The result variable is overwritten: an earlier trylock's result is gone.
    if let result { next.held = next.held.mapValues { forgetting(result, in: $0) } }

    // A lock held at a fork made here, taken again in that fork's child.
    let childForks = Set(state.child.childForks)
    if !childForks.isEmpty {
      for (lock, use) in acquisitions(of: call) {
        guard let (heldLock, hold) = state.held.alias(of: lock), hold.event.conflicts(with: use, knowledge) else {
          continue
        }
        for fork in hold.forks.intersection(childForks).sorted() {
          findings.append(
            LockHeldAtFork(
              lock: heldLock, acquisition: hold.event, holder: function.name, fork: function.calls[fork],
              chainToFork: [],
              use: use))
        }
      }
    }

    if let definition = program.definition(of: call) {
      // A fork further down whose child takes a lock held here.
      for use in reach.forkChildAcquires[definition.symbol] ?? [] {
        guard let lock = LockAnalysis.translate(use.lock, at: call), let (heldLock, hold) = state.held.alias(of: lock),
          hold.event.conflicts(with: use.use, knowledge)
        else { continue }
        findings.append(
          LockHeldAtFork(
            lock: heldLock, acquisition: hold.event, holder: function.name, fork: use.fork,
            chainToFork: [UnsafeCallSearch.Link(call: call, caller: function.name)] + use.chainToFork, use: use.use))
      }
      let summary = holds[definition.symbol] ?? HoldSummary()
      for lock in summary.releasedOnReturn.compactMap({ LockAnalysis.translate($0, at: call) }) {
        if next.held.removeAliases(of: lock) == 0 { next.released.insert(lock) }
      }
      for (lock, event) in summary.heldOnReturn {
        guard let translated = LockAnalysis.translate(lock, at: call) else { continue }
        var hold = Hold(event: event.called(from: call, in: function.name))
        if summary.heldOnlyWhenNonZero.contains(lock), let result {
          hold.condition = result
          hold.heldWhenZero = false
        }
        next.held[translated] = hold
      }
    } else if let lockFunction = knowledge.lockFunction(call.callee),
      let lock = call.lockArguments[lockFunction.lockArgument]
    {
      let event = LockEvent(call: call, function: function.name, chain: [])
      switch lockFunction.role {
      case .acquire:
        next.held[lock] = Hold(event: event)
      case .tryAcquire:
        next.held[lock] = Hold(event: event, condition: result)
      case .release:
        if next.held.removeAliases(of: lock) == 0 { next.released.insert(lock) }
      case .initialise:
        next.held.removeAliases(of: lock)
        next.released.insert(lock)
      case .destroy:
        next.held.removeAliases(of: lock)
      case .scoped:
        // Held only while its closure runs; a front end lowers the closure between an
        // acquire and a release, so the call itself changes nothing.
        break
      }
    }

    guard let child = children.call(index, result: result, state.child) else { return nil }
    next.child = child
    if effects[index].isFork {
      for lock in next.held.keys { next.held[lock]!.forks.insert(index) }
    }
    return next
  }

  /// A store to the trylock result variable loses what it said; the lock stays maybe-held.
  private func forgetting(_ variable: String, in hold: Hold) -> Hold {
    guard hold.condition == variable else { return hold }
    var updated = hold
    updated.condition = nil
    return updated
  }

  mutating func write(_ write: MemoryWrite, _ state: State) -> State {
    var next = state
    next.child = children.write(write, state.child)
    if write.target == .local, let variable = write.variable {
      next.held = next.held.mapValues { forgetting(variable, in: $0) }
    }
    return next
  }

  mutating func declare(_ variable: String, _ state: State) -> State {
    var next = state
    next.child = children.declare(variable, state.child)
    next.held = next.held.mapValues { forgetting(variable, in: $0) }
    return next
  }

  /// A successful trylock returns 0, a failed one an error number; a conditional lock
  /// wrapper returns non-zero when it locked.
  func narrow(_ state: State, by condition: Condition, holds: Bool) -> State? {
    guard let child = children.narrow(state.child, by: condition, holds: holds) else { return nil }
    var next = state
    next.child = child
    for (lock, hold) in state.held {
      guard let variable = hold.condition else { continue }
      let (held, free): (AbstractValue, AbstractValue) =
        hold.heldWhenZero ? (.exactly(0), .positive) : (.positive, .exactly(0))
      if !held.survives(condition, variable: variable, holds: holds) {
        next.held[lock] = nil
      } else if !free.survives(condition, variable: variable, holds: holds) {
        next.held[lock]!.condition = nil
      }
    }
    return next
  }

  mutating func returnsConstant(_ value: Int, _ state: State) { returning = value }

  mutating func leave(_ exitState: State, at location: SourceLocation) {
    let value = returning
    returning = nil
    // A semaphore a function waits on and returns without posting is not a lock it holds:
    // the wait consumed a wake-up (postgres's PGSemaphoreLock waits for another process to
    // post). Only a wait and a post in one function make a critical section; carried up
    // the call graph as "held", one such wait was held by 15,000 of postgres's functions
    // and made 16 wrong findings.
    var state = exitState
    state.held = state.held.filter { !$0.value.event.isSemaphoreWait(knowledge) }
    if value == 0 { hasZeroExit = true }
    if let value, value != 0 {
      heldAtNonZeroExits.formUnion(state.held.keys)
    } else {
      // A hold that depends on a result variable is not known to be held at the exit.
      heldAtZeroOrUnknownExits.formUnion(state.held.filter { $0.value.condition == nil }.keys)
    }
    for (lock, hold) in state.held where exitHeld[lock].map({ hold.event.chainLength < $0.chainLength }) ?? true {
      exitHeld[lock] = hold.event
    }
    exitReleased = exitReleased.map { $0.intersection(state.released) } ?? state.released
  }
}

extension Dictionary where Key == LockReference {
  /// The entry for this lock, or for one it may be (`mayAlias`).
  public func alias(of lock: LockReference) -> (key: LockReference, value: Value)? {
    if let index = index(forKey: lock) { return self[index] }
    return first { $0.key.mayAlias(lock) }
  }

  /// Removes the entries the lock may be; how many there were.
  @discardableResult
  public mutating func removeAliases(of lock: LockReference) -> Int {
    let keys = self.keys.filter { $0.mayAlias(lock) }
    for key in keys { removeValue(forKey: key) }
    return keys.count
  }
}
