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
  }

  /// Which verdicts the caller wants reported.
  public var accepts: (Safety) -> Bool

  public init(accepts: @escaping (Safety) -> Bool) {
    self.accepts = accepts
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
    var findings: [Finding] = []
    var entered = Set(alreadyEntered.map { Entry(symbol: $0, values: [:]) })
    var entriesBySymbol: [SymbolID: Int] = [:]
    var useBySymbol: [SymbolID: (tested: Set<Int>, passedOn: Set<Int>)] = [:]
    var reported = Set<SourceLocation>()
    var queue: [(calls: [CallSite], caller: String, chain: [Link], values: [Int: AbstractValue])] = [
      (calls, caller, [], parameterValues)
    ]
    var head = 0
    while head < queue.count {
      let (calls, caller, chain, values) = queue[head]
      head += 1
      for call in calls {
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
            case .parameter(let outer)?: known[index] = values[outer]
            case .elements(let elements)?: known[index] = .elements(elements)
            // A string literal matters where its bytes are tested; passed on, it would only
            // multiply the value sets a function is entered with (every message of a `Msg(0, …)`).
            case .string(let text)? where use.tested.contains(index):
              known[index] = .elements(ArgumentValue.string(text).knownBytes ?? [:])
            case .string?: break
            case .variable(let symbol)?:
              if let bits = program.staticVariableBits(symbol) { known[index] = .bitsWithin(bits) }
            case .bitsIncluding?, nil: break
            }
          }
          // A function entered without known values has had every call searched; a few
          // distinct value sets per function are enough for real code and bound the work.
          if !known.isEmpty,
            entered.contains(Entry(symbol: definition.symbol, values: [:]))
              || entriesBySymbol[definition.symbol, default: 0] >= Self.valueSetsPerFunction
          {
            known = [:]
          }
          if entered.insert(Entry(symbol: definition.symbol, values: known)).inserted {
            entriesBySymbol[definition.symbol, default: 0] += 1
            let reachable = ReachableCalls.indices(of: definition, given: known).map { definition.calls[$0] }
            queue.append((reachable, definition.name, chain + [Link(call: call, caller: caller)], known))
          }
          continue
        }
        let safety = call.symbol == nil ? Safety.unknown : knowledge.safety(of: call)
        if accepts(safety), reported.insert(call.location).inserted {
          findings.append(Finding(call: call, safety: safety, caller: caller, chain: chain))
        }
      }
    }
    return findings
  }

  static let valueSetsPerFunction = 4

  private struct Entry: Hashable {
    var symbol: SymbolID
    var values: [Int: AbstractValue]
  }
}
