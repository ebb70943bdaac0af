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
  /// once per search and each function is entered once, so cycles end.
  public func findings(
    startingWith calls: [CallSite], in caller: String, program: ProgramGraph, knowledge: Knowledge,
    alreadyEntered: Set<SymbolID> = []
  ) -> [Finding] {
    var findings: [Finding] = []
    var entered = alreadyEntered
    var reported = Set<SourceLocation>()
    var queue: [(calls: [CallSite], caller: String, chain: [Link])] = [(calls, caller, [])]
    var head = 0
    while head < queue.count {
      let (calls, caller, chain) = queue[head]
      head += 1
      for call in calls {
        if let definition = program.definition(of: call) {
          if entered.insert(definition.symbol).inserted {
            queue.append((definition.calls, definition.name, chain + [Link(call: call, caller: caller)]))
          }
          continue
        }
        let safety = call.symbol == nil ? Safety.unknown : knowledge.safety(of: call.callee)
        if accepts(safety), reported.insert(call.location).inserted {
          findings.append(Finding(call: call, safety: safety, caller: caller, chain: chain))
        }
      }
    }
    return findings
  }
}
