/// What each function's calls reach, whatever the path inside it: every lock it or anything
/// it calls takes or releases, and the locks fork children in it or below take, each with
/// its best witness.
///
/// These sets need no flow, so they are not computed by re-running each function's flow
/// until nothing changes: that fixed point re-ran callers whenever a witness one call
/// shorter came around a cycle, and on a large tree it ran out of budget before settling
/// (git: 127,000 flow runs for 11,000 functions). Here every (function, lock) pair is
/// reached from the lock call outwards, breadth first, so the first witness to arrive is the
/// shortest and each pair is set once: the work is the size of the answer times the callers.
struct LockReach {
  /// By function: lock → witness, best first (exclusive before shared, then shortest).
  private(set) var acquires: [SymbolID: [LockReference: LockEvent]] = [:]
  /// The same, in the order callers read them (by the lock call's location).
  private(set) var acquiresInOrder: [SymbolID: [(LockReference, LockEvent)]] = [:]
  private(set) var releases: [SymbolID: [LockReference: LockEvent]] = [:]
  private(set) var releasesInOrder: [SymbolID: [(LockReference, LockEvent)]] = [:]
  private(set) var forkChildAcquires: [SymbolID: [ForkChildUse]] = [:]

  /// A call from `caller` (its `index`th) to a function defined in the program.
  struct Caller {
    var function: FunctionFacts
    var call: CallSite
  }

  init(
    functions: [FunctionFacts], callers: [SymbolID: [Caller]], regions: [SymbolID: [ChildRegion]],
    program: ProgramGraph, knowledge: Knowledge
  ) {
    // Lock calls into the C library, the seeds, in a fixed order.
    var exclusive: [(SymbolID, LockReference, LockEvent)] = []
    var shared: [(SymbolID, LockReference, LockEvent)] = []
    var released: [(SymbolID, LockReference, LockEvent)] = []
    for function in functions {
      let callees = program.callees(of: function)
      for (index, call) in function.calls.enumerated() where !callees.isDefined(at: index) {
        guard let lockFunction = knowledge.lockFunction(call.callee),
          let lock = call.lockArguments[lockFunction.lockArgument]
        else { continue }
        let event = LockEvent(call: call, function: function.name, chain: [])
        switch lockFunction.role {
        case .acquire, .tryAcquire, .scoped:
          if event.isReadLock(knowledge) {
            shared.append((function.symbol, lock, event))
          } else {
            exclusive.append((function.symbol, lock, event))
          }
        case .release: released.append((function.symbol, lock, event))
        case .initialise, .destroy: break
        }
      }
    }
    // An exclusive witness is better at any length (it conflicts with every holder), so
    // exclusive locks spread first and shared ones fill only the pairs left.
    Self.spread(exclusive, into: &acquires, callers: callers)
    Self.spread(shared, into: &acquires, callers: callers)
    Self.spread(released, into: &releases, callers: callers)
    acquiresInOrder = acquires.mapValues(Self.inCallOrder)
    releasesInOrder = releases.mapValues(Self.inCallOrder)
    spreadForkChildUses(
      functions: functions, callers: callers, regions: regions, program: program, knowledge: knowledge)
  }

  private static func inCallOrder(_ events: [LockReference: LockEvent]) -> [(LockReference, LockEvent)] {
    events.sorted { ($0.value.call.location, $0.key.text) < ($1.value.call.location, $1.key.text) }.map {
      ($0.key, $0.value)
    }
  }

  /// Breadth first from the seeds to their callers, reading each lock in the caller's terms.
  private static func spread(
    _ seeds: [(SymbolID, LockReference, LockEvent)], into table: inout [SymbolID: [LockReference: LockEvent]],
    callers: [SymbolID: [Caller]]
  ) {
    var frontier: [(SymbolID, LockReference, LockEvent)] = []
    for (symbol, lock, event) in seeds where table[symbol]?[lock] == nil {
      table[symbol, default: [:]][lock] = event
      frontier.append((symbol, lock, event))
    }
    while !frontier.isEmpty {
      var next: [(SymbolID, LockReference, LockEvent)] = []
      for (symbol, lock, event) in frontier {
        for caller in callers[symbol] ?? [] {
          guard let translated = LockAnalysis.translate(lock, at: caller.call),
            table[caller.function.symbol]?[translated] == nil
          else { continue }
          let lifted = event.called(from: caller.call, in: caller.function.name)
          table[caller.function.symbol, default: [:]][translated] = lifted
          next.append((caller.function.symbol, translated, lifted))
        }
      }
      frontier = next
    }
  }

  /// The locks a call takes, directly or through what it calls, in the caller's terms.
  func acquisitions(
    of call: CallSite, in caller: String, program: ProgramGraph, knowledge: Knowledge
  ) -> [(LockReference, LockEvent)] {
    if let definition = program.definition(of: call) {
      return (acquiresInOrder[definition.symbol] ?? []).compactMap { lock, event in
        LockAnalysis.translate(lock, at: call).map { ($0, event.called(from: call, in: caller)) }
      }
    }
    guard let lockFunction = knowledge.lockFunction(call.callee),
      [.acquire, .tryAcquire, .scoped].contains(lockFunction.role),
      let lock = call.lockArguments[lockFunction.lockArgument]
    else { return [] }
    return [(lock, LockEvent(call: call, function: caller, chain: []))]
  }

  /// A fork child's lock uses belong to the function that forks and, for locks other
  /// threads can hold (globals, fields), to every caller up the graph, by the shortest way.
  private mutating func spreadForkChildUses(
    functions: [FunctionFacts], callers: [SymbolID: [Caller]], regions: [SymbolID: [ChildRegion]],
    program: ProgramGraph, knowledge: Knowledge
  ) {
    var keys: [SymbolID: Set<String>] = [:]
    func key(_ use: ForkChildUse) -> String { "\(use.fork.location)|\(use.lock.kind)|\(use.lock.symbol)" }
    var frontier: [(SymbolID, ForkChildUse)] = []
    for function in functions {
      for region in regions[function.symbol] ?? [] {
        let fork = CallSite(callee: region.forkCallee, symbol: nil, location: region.forkLocation)
        for call in region.calls {
          for (lock, event) in acquisitions(of: call, in: function.name, program: program, knowledge: knowledge) {
            let use = ForkChildUse(fork: fork, forkFunction: function.name, chainToFork: [], lock: lock, use: event)
            guard keys[function.symbol, default: []].insert(key(use)).inserted else { continue }
            forkChildAcquires[function.symbol, default: []].append(use)
            if lock.isShared { frontier.append((function.symbol, use)) }
          }
        }
      }
    }
    while !frontier.isEmpty {
      var next: [(SymbolID, ForkChildUse)] = []
      for (symbol, use) in frontier {
        for caller in callers[symbol] ?? [] {
          var lifted = use
          lifted.chainToFork =
            [UnsafeCallSearch.Link(call: caller.call, caller: caller.function.name)] + use.chainToFork
          guard keys[caller.function.symbol, default: []].insert(key(lifted)).inserted else { continue }
          forkChildAcquires[caller.function.symbol, default: []].append(lifted)
          next.append((caller.function.symbol, lifted))
        }
      }
      frontier = next
    }
  }
}
