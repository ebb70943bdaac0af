/// Walks the call graph from an async-signal-safe context to every call it may make that
/// the knowledge base does not accept, with the chain of calls that leads there.
public struct UnsafeCallSearch {
  /// One call in the chain from the context to the finding, outermost first.
  public struct Link: Hashable, Sendable {
    public var call: CallSite
    /// The function the call is made from.
    public var caller: String

    public init(call: CallSite, caller: String) {
      self.call = call
      self.caller = caller
    }
  }

  public struct Finding: Hashable, Sendable {
    public var call: CallSite
    public var safety: Safety
    /// The function containing the call.
    public var caller: String
    /// Calls into analysed functions that lead from the context to `caller`.
    public var chain: [Link]
    /// Set when every path from the context to this call first makes `after`, an unsafe
    /// call in a function of the chain, and then calls into the function that leads here.
    public var after: CallSite? = nil
    /// What the call's arguments hold on every way the search reached it (by index): a
    /// constant, or a parameter the caller was entered with known (`strsignal(signo)` in a
    /// handler registered for SIGTERM).
    public var arguments: [Int: AbstractValue] = [:]
  }

  /// Which verdicts the caller wants reported.
  public var accepts: (Safety) -> Bool
  /// Which unsafe calls the caller reports as warnings. A function that makes one and then
  /// calls into more project code has only reached that code after a reported problem
  /// (telnet's SIGTSTP handler calls the interactive command loop, which prints before it
  /// does anything else): what that code does is found with `after` set.
  public var isReported: ((CallSite, Safety) -> Bool)?

  /// What each call does to the process (the program's `ProcessModel`): a call that ends it
  /// ends its path where values are known (scp's `if (signo) _exit(1); exit(1);`).
  public var process: ProcessModel?

  public init(
    accepts: @escaping (Safety) -> Bool, isReported: ((CallSite, Safety) -> Bool)? = nil, process: ProcessModel? = nil
  ) {
    self.accepts = accepts
    self.isReported = isReported
    self.process = process
  }

  /// A function's calls as the search walks them.
  struct Visit {
    var calls: [CallSite]
    var caller: String
    var chain: [Link]
    var values: [Int: AbstractValue]
    /// The unsafe call every path made before entering `caller`, if any.
    var after: CallSite?
    /// For calls of `caller` (by position in `calls`) reached only after one of its own
    /// unsafe calls: which.
    var onlyAfter: [Int: CallSite] = [:]
  }

  /// Breadth-first, so each finding comes with a shortest chain; each call site is reported
  /// once per search and each function is entered once per set of known parameter values,
  /// so cycles end.
  ///
  /// - Parameter parameterValues: what the starting function's parameters hold (a signal
  ///   handler's signal number); constants and those parameters flow into callees, whose
  ///   branches on them are decided.
  public func findings(
    startingWith calls: [CallSite], in caller: String, program: ProgramGraph, knowledge: Knowledge,
    alreadyEntered: Set<SymbolID> = [], parameterValues: [Int: AbstractValue] = [:]
  ) -> [Finding] {
    search(
      from: Visit(calls: calls, caller: caller, chain: [], values: parameterValues, after: nil), program: program,
      knowledge: knowledge, alreadyEntered: alreadyEntered)
  }

  /// The same, from the calls `function` can make with its parameters holding
  /// `parameterValues` (a signal handler).
  public func findings(
    startingIn function: FunctionFacts, program: ProgramGraph, knowledge: Knowledge,
    parameterValues: [Int: AbstractValue] = [:]
  ) -> [Finding] {
    search(
      from: visit(function, values: parameterValues, chain: [], after: nil, program: program, knowledge: knowledge),
      program: program, knowledge: knowledge, alreadyEntered: [function.symbol])
  }

  /// What entering `function` with `values` known reaches, and which of its calls into
  /// project code come only after one of its own reported unsafe calls.
  func visit(
    _ function: FunctionFacts, values: [Int: AbstractValue], chain: [Link], after: CallSite?, program: ProgramGraph,
    knowledge: Knowledge
  ) -> Visit {
    var next = Visit(calls: [], caller: function.name, chain: chain, values: values, after: after)
    let variables = program.testedVariableValues(of: function)
    // Calls that end the process end their path; only a flow with known values uses them.
    var ending = Set<Int>()
    if !values.isEmpty || !variables.isEmpty, let process {
      let effects = process.effects(of: function)
      ending = Set(effects.indices.filter { effects[$0] == .exitProcess })
    }
    let results = Self.knownResults(of: function, program: program, knowledge: knowledge)
    guard after == nil, let isReported else {
      next.calls = ReachableCalls.indices(
        of: function, given: values, variables: variables, after: [], ending: ending, results: results
      ).reached.map { function.calls[$0] }
      return next
    }
    // Only calls into more project code can come "after": the function's own unsafe calls
    // are each a problem of their own. A function that makes none (most) needs no flow.
    let intoProject = function.calls.map { program.definition(of: $0) != nil }
    let unsafe =
      intoProject.contains(true)
      ? Set(
        function.calls.indices.filter { index in
          guard !intoProject[index] else { return false }
          let call = function.calls[index]
          let safety = call.symbol == nil ? Safety.unknown : knowledge.safety(of: call)
          return accepts(safety) && isReported(call, safety)
        }) : []
    let (reachable, onlyAfter) = ReachableCalls.indices(
      of: function, given: values, variables: variables, after: unsafe, ending: ending, results: results)
    next.calls = reachable.map { function.calls[$0] }
    for (position, index) in reachable.enumerated() where intoProject[index] {
      if let first = onlyAfter[index] { next.onlyAfter[position] = function.calls[first] }
    }
    return next
  }

  func search(from start: Visit, program: ProgramGraph, knowledge: Knowledge, alreadyEntered: Set<SymbolID>)
    -> [Finding]
  {
    var findings: [Finding] = []
    var entered = Set(alreadyEntered.map { Entry(symbol: $0, values: [:], afterUnsafe: false) })
    /// Value sets each function was entered with, counted apart for entries after an unsafe
    /// call: those must not use up what the ordinary entries may try.
    var entriesBySymbol: [Entry: Int] = [:]
    var useBySymbol: [SymbolID: (tested: Set<Int>, passedOn: Set<Int>)] = [:]
    /// Where each reported call's finding is in `findings`.
    var reported: [SourceLocation: Int] = [:]
    var queue = [start]
    var head = 0
    while head < queue.count {
      let visit = queue[head]
      let (calls, caller, chain, values) = (visit.calls, visit.caller, visit.chain, visit.values)
      head += 1
      for (position, call) in calls.enumerated() {
        let after = visit.after ?? visit.onlyAfter[position]
        if let definition = program.definition(of: call) {
          let use =
            useBySymbol[definition.symbol]
            ?? {
              let use = ReachableCalls.parameterUse(of: definition)
              useBySymbol[definition.symbol] = use
              return use
            }()
          var known: [Int: AbstractValue] = [:]
          for index in use.tested.union(use.passedOn) {
            switch call.argumentValues[index] {
            case .constant(let value)?: known[index] = .exactly(value)
            case .parameter(let outer)?:
              // A buffer's end is known relative to the caller's length parameter, which
              // need not be passed on beside it.
              if case .delimited(let elements, _, _)? = values[outer] {
                known[index] = .elements(elements)
              } else {
                known[index] = values[outer]
              }
            case .elements(let elements)?: known[index] = .elements(elements)
            case .delimited(let elements, let lengthArgument, let fromEnd)?:
              known[index] =
                use.tested.contains(lengthArgument) || use.passedOn.contains(lengthArgument)
                ? .delimited(elements: elements, lengthParameter: lengthArgument, fromEnd: fromEnd)
                : .elements(elements)
            case .within(let low, let high)?: known[index] = .within(low...high)
            // A string literal matters where its bytes are tested; passed on, it would only
            // multiply the value sets a function is entered with (every message of a `Msg(0, …)`),
            // so it goes on as what a format needs: whether glibc formats it without a lock.
            case .string(let text)? where use.tested.contains(index):
              known[index] = .elements(ArgumentValue.string(text).knownBytes ?? [:])
            case .string(let text)?:
              if knowledge.isLockFreeFormat(text) { known[index] = .lockFreeFormat }
            case .variable(let symbol)?:
              if let bits = program.variableBits(symbol) { known[index] = .bitsWithin(bits) }
            case .bitsIncluding?, nil: break
            }
          }
          // A function entered without known values has had every call searched; a few
          // distinct value sets per function are enough for real code and bound the work.
          // An entry after an unsafe call adds nothing to one without.
          let counter = Entry(symbol: definition.symbol, values: [:], afterUnsafe: after != nil)
          func wasEntered(_ values: [Int: AbstractValue]) -> Bool {
            entered.contains(Entry(symbol: definition.symbol, values: values, afterUnsafe: false))
              || (after != nil && entered.contains(Entry(symbol: definition.symbol, values: values, afterUnsafe: true)))
          }
          if !known.isEmpty,
            wasEntered([:]) || entriesBySymbol[counter, default: 0] >= Self.valueSetsPerFunction
          {
            known = [:]
          }
          if !wasEntered(known) {
            entered.insert(Entry(symbol: definition.symbol, values: known, afterUnsafe: after != nil))
            entriesBySymbol[counter, default: 0] += 1
            queue.append(
              self.visit(
                definition, values: known, chain: chain + [Link(call: call, caller: caller)], after: after,
                program: program, knowledge: knowledge))
          }
          continue
        }
        let safety = call.symbol == nil ? Safety.unknown : knowledge.safety(of: call)
        guard accepts(safety) else { continue }
        var finding = Finding(call: call, safety: safety, caller: caller, chain: chain, after: visit.after)
        finding.arguments = Self.knownArguments(of: call, given: values)
        if let index = reported[call.location] {
          // Known only as far as every way here agrees: two numbers become the range
          // between them (ssh_signal's strsignal, called with SIGALRM and with SIGTERM).
          let arguments = findings[index].arguments.reduce(into: [Int: AbstractValue]()) {
            known, pair in
            if let joined = Self.join(pair.value, finding.arguments[pair.key]) { known[pair.key] = joined }
          }
          // Found again without an unsafe call before it: that is the finding.
          if findings[index].after != nil, visit.after == nil { findings[index] = finding }
          findings[index].arguments = arguments
        } else {
          reported[call.location] = findings.count
          findings.append(finding)
        }
      }
    }
    return findings
  }

  static let valueSetsPerFunction = 4

  /// What `function`'s library calls return where their arguments decide it (the error
  /// branch of `sigaction(SIGTERM, …)`), for its flow; nil when no call's can be known.
  static func knownResults(of function: FunctionFacts, program: ProgramGraph, knowledge: Knowledge)
    -> ((Int, (String) -> AbstractValue?) -> AbstractValue?)?
  {
    let deciding = Set(
      function.calls.indices.filter { index in
        knowledge.hasKnownResult(function.calls[index].callee) && program.definition(of: function.calls[index]) == nil
      })
    guard !deciding.isEmpty else { return nil }
    return { index, lookup in
      guard deciding.contains(index) else { return nil }
      let call = function.calls[index]
      let result = knowledge.result(of: call) { position in
        AbstractValue(argument: call.argumentValues[position]) { outer in
          outer < function.parameters.count ? lookup(function.parameters[outer]) : nil
        }
      }
      return result.map { .exactly($0) }
    }
  }

  /// A value that covers both, when one does: equal values, or the range two numbers span.
  static func join(_ a: AbstractValue, _ b: AbstractValue?) -> AbstractValue? {
    guard let b else { return nil }
    if a == b { return a }
    guard let x = a.numbers, let y = b.numbers else { return nil }
    return .within(min(x.lowerBound, y.lowerBound)...max(x.upperBound, y.upperBound))
  }

  /// The values a library call's arguments hold, given what its caller's parameters hold.
  static func knownArguments(of call: CallSite, given values: [Int: AbstractValue]) -> [Int: AbstractValue] {
    call.argumentValues.keys.reduce(into: [:]) { known, index in
      known[index] = AbstractValue(argument: call.argumentValues[index]) { values[$0] }
    }
  }

  private struct Entry: Hashable {
    var symbol: SymbolID
    var values: [Int: AbstractValue]
    var afterUnsafe: Bool
  }
}
