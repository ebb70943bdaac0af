/// The calls a function can make when some of its parameters are known on entry: a signal
/// handler's signal number (never 0, never above 64), or the constants a caller passes
/// (`remove_dir_recursively(&path, 0)` never takes the `flag & REMOVE_DIR_KEEP_NESTED_GIT`
/// branch). Branches the values rule out are left out; everything else is kept, so with
/// nothing known this is every call of the function.
public struct ReachableCalls: FlowDomain {
  public struct State: Equatable {
    var values: [String: AbstractValue]
    /// The first of `unsafeCalls` made on every path to here, if every path made one.
    var after: Int? = nil
  }

  /// Calls whose return means the path has already done something not async-signal-safe.
  var unsafeCalls: Set<Int> = []
  /// Calls that do not return (`_exit`, `abort`, a `noreturn` function): nothing after them
  /// on the path is reached.
  var endingCalls: Set<Int> = []
  /// What a call returns, when its arguments decide it (`sigaction(SIGTERM, …)` returns 0),
  /// given how to read a named value on the path.
  var results: ((Int, (String) -> AbstractValue?) -> AbstractValue?)? = nil
  private(set) var reached = Set<Int>()
  /// Calls reached on some path that made none of `unsafeCalls` before them.
  private(set) var reachedClean = Set<Int>()
  /// For calls reached only after one of `unsafeCalls`: the one that came first.
  private(set) var reachedAfter: [Int: Int] = [:]

  /// Indices into `function.calls`, in source order.
  public static func indices(of function: FunctionFacts, given parameterValues: [Int: AbstractValue]) -> [Int] {
    let values = entryValues(of: function, given: parameterValues)
    guard !values.isEmpty else { return Array(function.calls.indices) }
    var interpreter = FlowInterpreter(domain: ReachableCalls())
    interpreter.runFunction(function.body, from: State(values: values), bodyEnd: function.bodyEnd)
    return interpreter.domain.reached.sorted()
  }

  /// `indices(of:given:)`, and which of those calls every path reaches only after one of
  /// `unsafe` (indices into `function.calls`), mapped to the first such unsafe call.
  ///
  /// With values known, calls in `ending` (indices into `function.calls`) end their path:
  /// `if (signo) _exit(1); exit(1);` in a handler never reaches the `exit`. (With nothing
  /// known no flow is run, and every call is taken as reached.)
  ///
  /// `variables` are what the function's tests of globals and `static`s can take as known
  /// (`ProgramGraph.testedVariableValues`); a parameter of the same name hides one.
  ///
  /// `results` says what a call returns when its arguments decide it (by index into
  /// `function.calls`, with how to read a named value where it is made).
  public static func indices(
    of function: FunctionFacts, given parameterValues: [Int: AbstractValue], variables: [String: AbstractValue] = [:],
    after unsafe: Set<Int>, ending: Set<Int> = [],
    results: ((Int, (String) -> AbstractValue?) -> AbstractValue?)? = nil
  ) -> (reached: [Int], onlyAfter: [Int: Int]) {
    var values = entryValues(of: function, given: parameterValues)
    values.merge(variables) { parameter, _ in parameter }
    guard !unsafe.isEmpty || !values.isEmpty || results != nil else { return (Array(function.calls.indices), [:]) }
    var domain = ReachableCalls()
    domain.unsafeCalls = unsafe
    domain.results = results
    domain.endingCalls = values.isEmpty ? [] : ending
    var interpreter = FlowInterpreter(domain: domain)
    interpreter.runFunction(function.body, from: State(values: values), bodyEnd: function.bodyEnd)
    let result = interpreter.domain
    return (result.reached.sorted(), result.reachedAfter.filter { !result.reachedClean.contains($0.key) })
  }

  private static func entryValues(
    of function: FunctionFacts, given parameterValues: [Int: AbstractValue]
  ) -> [String: AbstractValue] {
    var values: [String: AbstractValue] = [:]
    for (index, value) in parameterValues where index < function.parameters.count {
      let name = function.parameters[index]
      values[name] = value
      // A buffer's known bytes are the values of `name[k]` (and `name[length-k]`), as
      // conditions spell them.
      switch value {
      case .elements(let elements):
        for (offset, byte) in elements { values[FlowNames.element(name, at: offset)] = .exactly(byte) }
      case .delimited(let elements, let lengthParameter, let fromEnd):
        for (offset, byte) in elements { values[FlowNames.element(name, at: offset)] = .exactly(byte) }
        if lengthParameter < function.parameters.count {
          let length = function.parameters[lengthParameter]
          for (back, byte) in fromEnd { values[FlowNames.element(name, at: length, plus: -back)] = .exactly(byte) }
        }
      default:
        break
      }
    }
    return values
  }

  /// The parameters (by index) whose value can change which calls are reachable: those a
  /// condition or `switch` in the body tests, and those passed on to a callee unchanged.
  public static func relevantParameters(of function: FunctionFacts) -> Set<Int> {
    let use = parameterUse(of: function)
    return use.tested.union(use.passedOn)
  }

  /// The parameters (by index) a condition or `switch` in the body tests (`p`, `p[0]`), and
  /// those passed on to a callee unchanged.
  public static func parameterUse(of function: FunctionFacts) -> (tested: Set<Int>, passedOn: Set<Int>) {
    guard !function.parameters.isEmpty else { return ([], []) }
    var tested = Set<String>()
    func visit(_ condition: Condition) {
      switch condition {
      case .compare(let variable, _, _), .truthy(let variable), .bitsSet(let variable, _): tested.insert(variable)
      case .not(let inner): visit(inner)
      case .and(let a, let b), .or(let a, let b):
        visit(a)
        visit(b)
      case .unknown: break
      }
    }
    func visit(_ node: FlowNode) {
      switch node {
      case .block(let nodes): nodes.forEach(visit)
      case .branch(let condition, let then, let otherwise):
        visit(condition)
        visit(then)
        visit(otherwise)
      case .switchOn(let variable, let arms):
        if let variable { tested.insert(variable) }
        for arm in arms { visit(arm.body) }
      case .loop(let body): visit(body)
      // `int in_signal_handler = !!(flags & …)`: a parameter read into a tested local;
      // `i = pointer[length - 2]` reads both.
      case .write(let write):
        switch write.value {
        case .truth(let condition)?: visit(condition)
        case .copy(let name)?: tested.formUnion(FlowNames.variables(in: name))
        case .sum(let terms, _)?: tested.formUnion(terms.keys)
        case .constant?, .adjusted?, .bits?, nil: break
        }
      case .call, .jump, .declare, .returnValue, .returnConstant: break
      }
    }
    visit(function.body)
    // `pointer[0]` tests what `pointer` points to.
    let testedBases = Set(tested.compactMap { name in name.firstIndex(of: "[").map { String(name[..<$0]) } })
    let testedIndices = Set(
      function.parameters.indices.filter {
        tested.contains(function.parameters[$0]) || testedBases.contains(function.parameters[$0])
      })
    var passedOn = Set<Int>()
    for call in function.calls {
      for case .parameter(let index) in call.argumentValues.values where index < function.parameters.count {
        passedOn.insert(index)
      }
    }
    return (testedIndices, passedOn)
  }

  public func merge(_ a: State, _ b: State) -> State {
    let after: Int? = if let x = a.after, let y = b.after { min(x, y) } else { nil }
    return State(values: a.values.filter { b.values[$0.key] == $0.value }, after: after)
  }

  public mutating func call(_ index: Int, result: String?, _ state: State) -> State? {
    reached.insert(index)
    if endingCalls.contains(index) {
      if state.after == nil {
        reachedClean.insert(index)
      } else if reachedAfter[index] == nil {
        reachedAfter[index] = state.after
      }
      return nil
    }
    var next = state
    if let first = state.after {
      if reachedAfter[index] == nil { reachedAfter[index] = first }
    } else {
      reachedClean.insert(index)
      if unsafeCalls.contains(index) { next.after = index }
    }
    guard let result else { return next }
    next = forgetting(result, next)
    if let value = results?(index, { state.values[$0] }) { next.values[result] = value }
    return next
  }

  public func write(_ write: MemoryWrite, _ state: State) -> State {
    guard write.target == .local, let variable = write.variable else { return state }
    var next = forgetting(variable, state)
    switch write.value {
    case .constant(let value)?: next.values[variable] = .exactly(value)
    case .truth(let condition)?:
      if let holds = AbstractValue.evaluate(condition, values: { state.values[$0] }) {
        next.values[variable] = .exactly(holds ? 1 : 0)
      }
    case .copy(let name)?:
      if let value = state.values[name], Self.isScalar(value) { next.values[variable] = value }
    case .adjusted(let delta)?:
      if let value = state.values[variable]?.shifted(by: delta) { next.values[variable] = value }
    case .sum(let terms, let constant)?:
      if let value = Self.sum(terms, constant, state) { next.values[variable] = value }
    case .bits(let or, let keeping)?:
      if case .exactly(let value)? = state.values[variable] { next.values[variable] = .exactly((value | or) & keeping) }
    case nil: break
    }
    return next
  }

  /// The range of a sum of known variables, when every one of them is known as a number or
  /// a range and nothing overflows.
  private static func sum(_ terms: [String: Int], _ constant: Int, _ state: State) -> AbstractValue? {
    var low = constant
    var high = constant
    for (name, factor) in terms {
      guard let range = state.values[name]?.numbers else { return nil }
      let (a, o1) = range.lowerBound.multipliedReportingOverflow(by: factor)
      let (b, o2) = range.upperBound.multipliedReportingOverflow(by: factor)
      guard !o1, !o2 else { return nil }
      let (newLow, o3) = low.addingReportingOverflow(min(a, b))
      let (newHigh, o4) = high.addingReportingOverflow(max(a, b))
      guard !o3, !o4 else { return nil }
      (low, high) = (newLow, newHigh)
    }
    return low == high ? .exactly(low) : .within(low...high)
  }

  /// A value a copy can carry alone: a buffer's bytes are known by the name they came in under.
  private static func isScalar(_ value: AbstractValue) -> Bool {
    switch value {
    case .exactly, .positive, .within, .bitsWithin: return true
    case .elements, .delimited, .lockFreeFormat: return false
    }
  }

  public func declare(_ variable: String, _ state: State) -> State { forgetting(variable, state) }

  /// A store to `p` loses what was known of `p`, of `p[k]` and of any `q[p-k]`.
  private func forgetting(_ variable: String, _ state: State) -> State {
    guard state.values.keys.contains(where: { FlowNames.name($0, dependsOn: variable) }) else { return state }
    var next = state
    next.values = next.values.filter { !FlowNames.name($0.key, dependsOn: variable) }
    return next
  }

  public func narrow(_ state: State, by condition: Condition, holds: Bool) -> State? {
    let verdict = AbstractValue.evaluate(condition) { state.values[$0] }
    return verdict == nil || verdict == holds ? state : nil
  }

  public func leave(_ state: State, at location: SourceLocation) {}
}
