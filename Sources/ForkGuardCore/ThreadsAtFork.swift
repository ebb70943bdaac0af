/// Whether another thread may be running when each fork happens.
///
/// A fork child is held to async-signal-safety because another thread may hold a lock at
/// the fork. Within a program (rooted at a `main`), that is so when a thread start — a
/// `pthread_create`, a library call that starts threads, a Swift `Thread` or `Task` — can
/// run on a path from the entry before the fork. The flow runs over the call graph: each
/// function is entered with "a thread may be running" from its callers, and a call to a
/// function that may start a thread leaves one running after it. A thread's start routine
/// runs with one running (itself). Functions reached only through a function value run at
/// a time the flow does not know: they count as threaded when their program starts a
/// thread anywhere. Code that no `main` in the analysed files reaches or covers (a library)
/// is judged as called from a multithreaded process, because it may be.
public struct ThreadsAtFork: Sendable {
  /// Why a fork counts as made while another thread may run.
  public enum Reason: Hashable, Sendable {
    /// A thread may have been started here before the fork.
    case threadStartedBefore(SourceLocation)
    /// No `main` in the analysed files reaches the forking function.
    case library
  }

  private var forkReasons: [SourceLocation: Reason] = [:]

  /// The reason another thread may be running at the fork, or nil when none can be.
  public func reason(atForkAt location: SourceLocation) -> Reason? { forkReasons[location] }

  public init(program: ProgramGraph, process: ProcessModel, knowledge: Knowledge) {
    // By the graph's function indices (in symbol order): the fixed points below visit
    // functions many times, and hashing symbol strings for every call was most of the work.
    let count = program.functionCount
    let functions = (0..<count).map(program.function(at:))
    let calleeIndices = (0..<count).map(program.calleeIndices(at:))
    var indexBySymbol: [SymbolID: Int] = [:]
    indexBySymbol.reserveCapacity(count)
    for (index, function) in functions.enumerated() { indexBySymbol[function.symbol] = index }
    /// The index of the definition a function value or registration in `file` runs.
    func targets(of reference: FunctionReference, near file: String) -> [Int] {
      program.functions(for: reference).compactMap { symbol, _ in
        program.function(symbol: symbol, near: file).flatMap { indexBySymbol[$0.symbol] }
      }
    }
    // Where threads start: registered thread entries and library calls that start threads.
    var threadEntries = Set<Int>()
    var startSites = Set<SourceLocation>()
    // `clone` without CLONE_VM forks too: its registration is at the call.
    let cloneSites = Set(program.registrations.filter { $0.kind == .cloneForkChild }.map(\.location))
    for registration in program.registrations where registration.kind == .threadStart {
      startSites.insert(registration.location)
      threadEntries.formUnion(targets(of: registration.handler, near: registration.location.file))
    }
    // The library calls that start threads, by the name as called: asked per call, the
    // knowledge resolves the name's aliases every time.
    var threadStartingNames = Set<String>()
    var libraryNamesSeen = Set<String>()
    for (index, function) in functions.enumerated() {
      let callees = calleeIndices[index]
      // By position: a `CallSite` copied out of the array is a dozen references retained.
      for position in function.calls.indices where callees[position] < 0 && function.calls[position].symbol != nil {
        let name = function.calls[position].callee
        if libraryNamesSeen.insert(name).inserted, knowledge.startsThread(name) { threadStartingNames.insert(name) }
      }
    }
    /// `inProject`: whether the call runs a definition in the project.
    func startsThreadHere(_ call: CallSite, inProject: Bool) -> Bool {
      (!startSites.isEmpty && startSites.contains(call.location))
        || (call.symbol != nil && !inProject && threadStartingNames.contains(call.callee))
    }
    /// The same for the call at `position` of `function`, read in place (a `CallSite`
    /// copied out is a dozen references retained), and without a look-up when nothing can.
    func startsThreadHere(_ function: FunctionFacts, _ position: Int, inProject: Bool) -> Bool {
      (!startSites.isEmpty && startSites.contains(function.calls[position].location))
        || (!inProject && !threadStartingNames.isEmpty && function.calls[position].symbol != nil
          && threadStartingNames.contains(function.calls[position].callee))
    }

    // Which functions may start a thread, directly or through what they call: the first
    // start site each reaches, to a fixed point.
    var callers = [[Int]](repeating: [], count: count)
    var addressTaken = [Bool](repeating: false, count: count)
    // The function values each function passes on (`pqsignal(SIGCHLD, reaper)`): what runs
    // later in the same program.
    var valuesTaken: [Int: [Int]] = [:]
    for (index, function) in functions.enumerated() {
      let callees = calleeIndices[index]
      for position in function.calls.indices {
        let callee = Int(callees[position])
        if callee >= 0, callers[callee].last != index { callers[callee].append(index) }
        guard !function.calls[position].functionArguments.isEmpty else { continue }
        let call = function.calls[position]
        for references in call.functionArguments.values {
          for reference in references {
            for target in targets(of: reference, near: call.location.file) {
              addressTaken[target] = true
              valuesTaken[index, default: []].append(target)
            }
          }
        }
      }
    }
    for file in program.files {
      for store in file.pointerStores {
        for target in targets(of: store.value, near: file.path) { addressTaken[target] = true }
      }
      for registration in file.registrations {
        for target in targets(of: registration.handler, near: file.path) {
          addressTaken[target] = true
          if let registering = registration.registeringSymbol.flatMap({ indexBySymbol[$0] }) {
            valuesTaken[registering, default: []].append(target)
          }
        }
      }
    }
    var startsThread = [SourceLocation?](repeating: nil, count: count)
    // Whether a name joins a thread, asked once per name: a function is visited again each
    // time one of its callees is found to start a thread.
    var joinsByName = NameAnswers(knowledge.joinsThread)
    // Project functions that join a thread on every path that returns (git's finish_async,
    // the pair of start_async): a call to one is a join, as a call to one that starts a
    // thread is a start.
    var joinWrappers = [Bool](repeating: false, count: count)
    /// Whether the call at `position` of the function at `index` joins a thread, read in
    /// place (a `CallSite` copied out is a dozen references retained).
    func joins(_ index: Int, _ position: Int) -> Bool {
      let callee = Int(calleeIndices[index][position])
      return joinsByName(functions[index].calls[position].callee) || (callee >= 0 && joinWrappers[callee])
    }
    var pendingJoins = functions.indices.filter { index in
      functions[index].calls.indices.contains { joinsByName(functions[index].calls[$0].callee) }
    }
    while let index = pendingJoins.popLast() {
      guard !joinWrappers[index] else { continue }
      let function = functions[index]
      let joinsAt = function.calls.indices.map { joins(index, $0) }
      guard JoinOnEveryPath.holds(for: function, joinsAt: joinsAt, effects: process.effects(of: function)) else {
        continue
      }
      joinWrappers[index] = true
      pendingJoins.append(contentsOf: callers[index].sorted())
    }
    var lastJoinByIndex = [Int?](repeating: nil, count: count)
    var pending = Array(0..<count)
    while let index = pending.popLast() {
      guard startsThread[index] == nil else { continue }
      let function = functions[index]
      let callees = calleeIndices[index]
      // A function that starts its workers and joins them (git's threaded index load)
      // leaves none running; one that starts another after the join names that one.
      let lastJoin =
        lastJoinByIndex[index]
        ?? {
          let last = function.calls.indices.last { joins(index, $0) } ?? -1
          lastJoinByIndex[index] = last
          return last
        }()
      var site: SourceLocation?
      for position in function.calls.indices where position > lastJoin {
        let callee = Int(callees[position])
        if startsThreadHere(function, position, inProject: callee >= 0) {
          site = function.calls[position].location
          break
        }
        if callee >= 0, let start = startsThread[callee] {
          site = start
          break
        }
      }
      guard let site else { continue }
      startsThread[index] = site
      pending.append(contentsOf: callers[index].sorted())
    }

    let anyThreadStart = startsThread.compactMap { $0 }.min()
    // Programs: each `main`, covering the files at or below its folder.
    let roots = functions.indices.filter {
      SymbolSpelling.isProgramEntry(functions[$0].symbol, name: functions[$0].name)
    }
    let rootFolders = roots.map { ProgramGraph.folder(of: functions[$0].location.file) + "/" }
    func coveringRoots(_ file: String) -> [Int] {
      // A program named by hand covers its own files.
      if let name = program.program(of: file) {
        return roots.filter { program.program(of: functions[$0].location.file) == name }
      }
      // Compared as bytes: `hasPrefix` compares canonical equivalence, a hundred times slower.
      let folder = ProgramGraph.folder(of: file) + "/"
      return roots.indices.filter { folder.utf8.starts(with: rootFolders[$0].utf8) }.map { roots[$0] }
    }
    // What each program runs: its calls, and the function values passed on by what it runs
    // (a signal handler, a callback). A function value taken there runs in that program,
    // wherever its file is: postgres's postmaster (main in src/backend/main/) installs
    // `reaper`, in src/backend/postmaster/, which forks; judged as library code for want of
    // a `main` over its folder, its 184 fork-child warnings took a single-threaded
    // daemon for a threaded one.
    var threadedReach = [SourceLocation?](repeating: nil, count: count)
    var unthreadedReach = [Bool](repeating: false, count: count)
    // What one root reaches, an earlier root of the same kind that reached any of it has
    // reached too: each function is walked once for the threaded roots and once for the
    // others, not once per program (openssh's regression tests are forty).
    for root in roots {
      let start = startsThread[root]
      func mark(_ index: Int) -> Bool {
        if let start {
          guard threadedReach[index] == nil else { return false }
          threadedReach[index] = start
          return true
        }
        guard !unthreadedReach[index] else { return false }
        unthreadedReach[index] = true
        return true
      }
      guard mark(root) else { continue }
      var stack = [root]
      while let index = stack.popLast() {
        for callee in calleeIndices[index] where callee >= 0 && mark(Int(callee)) { stack.append(Int(callee)) }
        for callee in valuesTaken[index] ?? [] where mark(callee) { stack.append(callee) }
      }
    }
    /// Entry state of a function the flow does not reach through calls. Outside what the
    /// programs run it depends on the file alone, and a tree with hundreds of test
    /// programs asks it for every function.
    var indirectEntryByFile: [String: Reason?] = [:]
    func indirectEntry(_ index: Int) -> Reason? {
      if let start = threadedReach[index] { return .threadStartedBefore(start) }
      if unthreadedReach[index] { return nil }
      let file = functions[index].location.file
      if let known = indirectEntryByFile[file] { return known }
      let covering = coveringRoots(file)
      let reason: Reason?
      if covering.isEmpty, program.isPrivateLibraryFile(file), !roots.isEmpty {
        // A private library links only into the tree's programs, and a function value in
        // it may be called from anywhere in them: threaded if any of them starts a thread.
        reason = anyThreadStart.map { .threadStartedBefore($0) }
      } else if covering.isEmpty {
        reason = .library
      } else {
        reason = covering.lazy.compactMap { startsThread[$0] }.first.map { .threadStartedBefore($0) }
      }
      indirectEntryByFile[file] = .some(reason)
      return reason
    }

    // The flow: entry states grow (nil, then a reason) until nothing changes.
    var entry = [Reason??](repeating: nil, count: count)
    var queue: [Int] = []
    func enter(_ index: Int, _ reason: Reason?) {
      if let known = entry[index] {
        guard known == nil, reason != nil else { return }
      }
      entry[index] = .some(reason)
      queue.append(index)
    }
    for root in roots { enter(root, nil) }
    for index in threadEntries.sorted() { enter(index, .threadStartedBefore(functions[index].location)) }
    // What the flow through a function that starts a thread needs, by symbol (few run it).
    var startsThreadBySymbol: [SymbolID: SourceLocation]?
    var forkReasons: [SourceLocation: Reason?] = [:]
    func run(_ index: Int) {
      guard let state = entry[index] else { return }
      let function = functions[index]
      // Order matters only in a function that may start a thread: elsewhere every call
      // and fork sees the state the function was entered with.
      let callees = calleeIndices[index]
      let effects = process.effects(of: function)
      let startsHere = function.calls.indices.contains { position in
        let callee = Int(callees[position])
        return startsThreadHere(function, position, inProject: callee >= 0)
          || (callee >= 0 && startsThread[callee] != nil)
      }
      if !startsHere {
        for position in function.calls.indices {
          if callees[position] >= 0 { enter(Int(callees[position]), state) }
          guard
            effects[position].isFork || (!cloneSites.isEmpty && cloneSites.contains(function.calls[position].location))
          else { continue }
          let location = function.calls[position].location
          if let known = forkReasons[location], known != nil { continue }
          forkReasons[location] = .some(state)
        }
        return
      }
      if startsThreadBySymbol == nil {
        var bySymbol: [SymbolID: SourceLocation] = [:]
        for (index, site) in startsThread.enumerated() { if let site { bySymbol[functions[index].symbol] = site } }
        startsThreadBySymbol = bySymbol
      }
      var domain = Flow(
        function: function, callees: program.callees(of: function), effects: effects, process: process,
        startsThreadHere: startsThreadHere, startsThread: startsThreadBySymbol ?? [:], cloneSites: cloneSites,
        joinsThread: { call, callee in
          joinsByName(call.callee) || (callee.flatMap { indexBySymbol[$0] }.map { joinWrappers[$0] } ?? false)
        },
        entryReason: state)
      var interpreter = FlowInterpreter(domain: domain)
      interpreter.runFunction(function.body, from: Flow.State(reason: state), bodyEnd: function.bodyEnd)
      domain = interpreter.domain
      for (callee, reason) in domain.calleeEntries.sorted(by: { $0.key < $1.key }) {
        if let callee = indexBySymbol[callee] { enter(callee, reason) }
      }
      for (fork, reason) in domain.forks {
        if let known = forkReasons[fork], known != nil { continue }
        forkReasons[fork] = .some(reason)
      }
    }
    var head = 0
    func drain() {
      while head < queue.count {
        let index = queue[head]
        head += 1
        run(index)
      }
    }
    drain()
    // Then what the calls did not reach: through function values, or not at all.
    for index in 0..<count where entry[index] == nil || addressTaken[index] {
      if entry[index] != nil && indirectEntry(index) == nil { continue }
      enter(index, indirectEntry(index))
      drain()
    }
    for (fork, reason) in forkReasons { if let reason { self.forkReasons[fork] = reason } }
  }

  /// The thread state through one function's body. A path remembers the tests it passed on
  /// the function's own local variables, and paths with different thread states are kept
  /// apart, so that a thread started and joined under the same test is joined on every path
  /// that started it: git's index load creates its extension thread in
  /// `if (extension_offset)` and joins it, after other work, in `if (extension_offset)`.
  struct Flow: FlowDomain {
    struct Path: Hashable {
      var reason: Reason?
      /// Tests of local variables passed on this path, with their outcome.
      var passed: [Condition: Bool] = [:]
    }
    struct State: Equatable {
      var paths: Set<Path>
      init(reason: Reason?) { paths = [Path(reason: reason)] }
      init(paths: Set<Path>) { self.paths = paths }
    }
    /// Beyond this many paths, those with the same thread state are merged.
    static let pathLimit = 8

    let function: FunctionFacts
    let callees: ProgramGraph.Callees
    /// `process.effects(of: function)`.
    let effects: [CallEffect]
    let process: ProcessModel
    /// Whether a call starts a thread itself (given whether it runs project code).
    let startsThreadHere: (CallSite, Bool) -> Bool
    let startsThread: [SymbolID: SourceLocation]
    let cloneSites: Set<SourceLocation>
    /// Whether a call (with its project definition's symbol, if any) joins a thread.
    let joinsThread: (CallSite, SymbolID?) -> Bool
    /// What the function was entered with: a join takes it back there.
    let entryReason: Reason?
    /// The function's parameters and declared locals: the variables whose tests are kept;
    /// empty in a function that joins no thread, where a path's tests change nothing.
    let locals: Set<String>
    var calleeEntries: [SymbolID: Reason?] = [:]
    var forks: [SourceLocation: Reason?] = [:]

    init(
      function: FunctionFacts, callees: ProgramGraph.Callees, effects: [CallEffect], process: ProcessModel,
      startsThreadHere: @escaping (CallSite, Bool) -> Bool, startsThread: [SymbolID: SourceLocation],
      cloneSites: Set<SourceLocation>, joinsThread: @escaping (CallSite, SymbolID?) -> Bool,
      entryReason: Reason?
    ) {
      self.function = function
      self.callees = callees
      self.effects = effects
      self.process = process
      self.startsThreadHere = startsThreadHere
      self.startsThread = startsThread
      self.cloneSites = cloneSites
      self.joinsThread = joinsThread
      self.entryReason = entryReason
      var locals = Set<String>()
      guard function.calls.indices.contains(where: { joinsThread(function.calls[$0], callees.symbol(at: $0)) }) else {
        self.locals = locals
        return
      }
      locals.formUnion(function.parameters)
      func collect(_ node: FlowNode) {
        switch node {
        case .block(let nodes): nodes.forEach(collect)
        case .branch(_, let a, let b):
          collect(a)
          collect(b)
        case .switchOn(_, let arms): arms.forEach { collect($0.body) }
        case .loop(let body): collect(body)
        case .declare(let name): locals.insert(name)
        case .call, .jump, .write, .returnValue, .returnConstant: break
        }
      }
      collect(function.body)
      self.locals = locals
    }

    func merge(_ a: State, _ b: State) -> State {
      let paths = a.paths.union(b.paths)
      guard paths.count > Self.pathLimit else { return State(paths: paths) }
      // Too many: one path per thread state, keeping only the tests they all passed alike.
      var byReason: [Reason?: Path] = [:]
      for path in paths {
        guard var known = byReason[path.reason] else {
          byReason[path.reason] = path
          continue
        }
        known.passed = known.passed.filter { path.passed[$0.key] == $0.value }
        byReason[path.reason] = known
      }
      return State(paths: Set(byReason.values))
    }

    mutating func call(_ index: Int, result: String?, _ state: State) -> State? {
      var after = Set<Path>()
      for path in state.paths {
        guard var next = call(index, path) else { continue }
        if let result { next.passed = next.passed.filter { !Self.mentions($0.key, result) } }
        after.insert(next)
      }
      return after.isEmpty ? nil : State(paths: after)
    }

    private mutating func call(_ index: Int, _ path: Path) -> Path? {
      let call = function.calls[index]
      let effect = effects[index]
      var path = path
      if effect.isFork || cloneSites.contains(call.location) {
        forks[call.location] = .some(Self.first(forks[call.location] ?? nil, path.reason))
      }
      let definition = callees.symbol(at: index)
      if startsThreadHere(call, definition != nil) {
        path.reason = path.reason ?? .threadStartedBefore(call.location)
        return path
      }
      // A child that exits does not come back to the parent's next fork.
      if effect == .exitProcess { return nil }
      if joinsThread(call, definition), path.reason != entryReason {
        path.reason = entryReason
        return path
      }
      guard let callee = definition else { return path }
      calleeEntries[callee] = .some(Self.first(calleeEntries[callee] ?? nil, path.reason))
      if let site = startsThread[callee], path.reason == nil {
        path.reason = .threadStartedBefore(site)
        return path
      }
      return process.neverReturns(symbol: callee) ? nil : path
    }

    func write(_ write: MemoryWrite, _ state: State) -> State {
      guard write.target == .local, let variable = write.variable else { return state }
      return forgetting(variable, state)
    }

    func declare(_ variable: String, _ state: State) -> State { forgetting(variable, state) }

    private func forgetting(_ variable: String, _ state: State) -> State {
      State(
        paths: Set(
          state.paths.map { path in
            var path = path
            path.passed = path.passed.filter { !Self.mentions($0.key, variable) }
            return path
          }))
    }

    func narrow(_ state: State, by condition: Condition, holds: Bool) -> State? {
      var (test, outcome) = (condition, holds)
      while case .not(let inner) = test { (test, outcome) = (inner, !outcome) }
      guard !locals.isEmpty else { return state }
      let variables = Self.variables(of: test)
      guard !variables.isEmpty, variables.isSubset(of: locals) else { return state }
      var kept = Set<Path>()
      for path in state.paths {
        if let known = path.passed[test], known != outcome { continue }
        var path = path
        path.passed[test] = outcome
        kept.insert(path)
      }
      return kept.isEmpty ? nil : State(paths: kept)
    }

    mutating func leave(_ state: State, at location: SourceLocation) {}

    /// Of two reasons met on different paths, the one kept: any over none, then the earliest
    /// start, so the paths' order (a set's) does not decide what a note names.
    static func first(_ a: Reason?, _ b: Reason?) -> Reason? {
      guard let a else { return b }
      guard let b else { return a }
      switch (a, b) {
      case (.threadStartedBefore(let x), .threadStartedBefore(let y)): return .threadStartedBefore(min(x, y))
      case (.library, _), (_, .library): return .library
      }
    }

    /// The variables a test reads; empty when it reads something else too (`.unknown`).
    static func variables(of condition: Condition) -> Set<String> {
      switch condition {
      case .compare(let variable, _, _), .truthy(let variable), .bitsSet(let variable, _): return [variable]
      case .not(let inner): return variables(of: inner)
      case .and(let a, let b), .or(let a, let b):
        let (x, y) = (variables(of: a), variables(of: b))
        return x.isEmpty || y.isEmpty ? [] : x.union(y)
      case .unknown: return []
      }
    }

    static func mentions(_ condition: Condition, _ variable: String) -> Bool {
      variables(of: condition).contains(variable) || condition == .unknown
    }
  }

  /// Whether every path through a function that returns has joined a thread: `joinsAt`
  /// says which calls join; a path ended by a call that does not return counts for nothing.
  struct JoinOnEveryPath: FlowDomain {
    let joinsAt: [Bool]
    let effects: [CallEffect]
    var returnsJoined = true
    var returns = false

    static func holds(for function: FunctionFacts, joinsAt: [Bool], effects: [CallEffect]) -> Bool {
      var interpreter = FlowInterpreter(domain: JoinOnEveryPath(joinsAt: joinsAt, effects: effects))
      interpreter.runFunction(function.body, from: false, bodyEnd: function.bodyEnd)
      return interpreter.domain.returns && interpreter.domain.returnsJoined
    }

    func merge(_ a: Bool, _ b: Bool) -> Bool { a && b }
    func call(_ index: Int, result: String?, _ state: Bool) -> Bool? {
      effects[index] == .exitProcess ? nil : state || joinsAt[index]
    }
    func write(_ write: MemoryWrite, _ state: Bool) -> Bool { state }
    func declare(_ variable: String, _ state: Bool) -> Bool { state }
    func narrow(_ state: Bool, by condition: Condition, holds: Bool) -> Bool? { state }
    mutating func leave(_ state: Bool, at location: SourceLocation) {
      returns = true
      returnsJoined = returnsJoined && state
    }
    // A jump the form does not follow may skip the join.
    mutating func jumpsAway(_ state: Bool) { returnsJoined = returnsJoined && state }
  }
}
