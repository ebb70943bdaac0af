import ForkGuardCore
import Testing

@Suite("Unsafe call search")
struct UnsafeCallSearchTests {
  static func at(_ line: Int) -> ForkGuardCore.SourceLocation {
    ForkGuardCore.SourceLocation(file: "a.c", line: line, column: 1)
  }

  static func function(_ name: String, _ calls: [(String, Int)]) -> FunctionFacts {
    FunctionFacts(
      symbol: "c:@F@\(name)", name: name, location: at(0),
      calls: calls.map { CallSite(callee: $0.0, symbol: "c:@F@\($0.0)", location: at($0.1)) }, nonLocalWrites: [])
  }

  @Test func followsChainsAndHandlesCycles() throws {
    let program = ProgramGraph(files: [
      FileFacts(
        path: "a.c",
        functions: [
          Self.function("a", [("b", 1)]),
          Self.function("b", [("a", 2), ("malloc", 3), ("write", 4)]),
        ])
    ])
    let search = UnsafeCallSearch { if case .unsafe = $0 { return true } else { return false } }
    let findings = search.findings(
      startingWith: [CallSite(callee: "a", symbol: "c:@F@a", location: Self.at(10))], in: "spawn", program: program,
      knowledge: try Knowledge())
    #expect(findings.count == 1)
    #expect(findings.first?.call.callee == "malloc")
    #expect(findings.first?.caller == "b")
    #expect(findings.first?.chain.map(\.call.callee) == ["a", "b"])
    #expect(findings.first?.chain.map(\.caller) == ["spawn", "a"])
  }

  @Test func handlerVariablesResolveThroughStores() {
    let program = ProgramGraph(files: [
      FileFacts(
        path: "a.c", functions: [Self.function("on_term", [])],
        pointerStores: [
          PointerStore(variable: "c:@h", value: .variable(symbol: "c:@g", name: "g")),
          PointerStore(variable: "c:@g", value: .function(symbol: "c:@F@on_term", name: "on_term")),
        ])
    ])
    let resolved = program.functions(for: .variable(symbol: "c:@h", name: "h"))
    #expect(resolved.map(\.name) == ["on_term"])
  }
}

@Suite("Reachable calls")
struct ReachableCallsTests {
  static let at = UnsafeCallSearchTests.at

  /// `void helper(int flags) { if (flags & 1) malloc(); switch (flags) { case 2: free(); default: write(); } }`
  static let helper = FunctionFacts(
    symbol: "c:@F@helper", name: "helper", location: at(0),
    calls: [
      CallSite(callee: "malloc", symbol: "c:@F@malloc", location: at(1)),
      CallSite(callee: "free", symbol: "c:@F@free", location: at(2)),
      CallSite(callee: "write", symbol: "c:@F@write", location: at(3)),
    ], nonLocalWrites: [],
    body: .block([
      .branch(.bitsSet(variable: "flags", mask: 1), then: .call(index: 0, result: nil), else: .block([])),
      .switchOn(
        variable: "flags",
        arms: [
          SwitchArm(values: [2], isDefault: false, body: .block([.call(index: 1, result: nil), .jump(.breakOut)])),
          SwitchArm(values: [], isDefault: true, body: .call(index: 2, result: nil)),
        ]),
    ]), parameters: ["flags"])

  @Test func knownValuesDecideBranchesAndSwitchArms() {
    #expect(ReachableCalls.indices(of: Self.helper, given: [0: .exactly(2)]) == [1])
    #expect(ReachableCalls.indices(of: Self.helper, given: [0: .exactly(1)]) == [0, 2])
    #expect(ReachableCalls.indices(of: Self.helper, given: [:]) == [0, 1, 2])
    // A range decides what every value in it agrees on: 1...64 never equals 0 or 100.
    #expect(ReachableCalls.indices(of: Self.helper, given: [0: .within(3...64)]) == [0, 2])
    #expect(ReachableCalls.relevantParameters(of: Self.helper) == [0])
  }

  /// telnet's printsub: `i = pointer[length-2]` copies the buffer's known last byte, and
  /// `length -= 2` moves the length's range, so neither test below can pass.
  @Test func copiedElementsAndAdjustedLengthsDecideBranches() {
    let write = { (variable: String, value: StoredValue) in
      FlowNode.write(
        MemoryWrite(target: .local, text: variable, variable: variable, location: Self.at(1), value: value))
    }
    let printsub = FunctionFacts(
      symbol: "c:@F@printsub", name: "printsub", location: Self.at(0),
      calls: [
        CallSite(callee: "fprintf", symbol: "c:@F@fprintf", location: Self.at(2)),
        CallSite(callee: "fputs", symbol: "c:@F@fputs", location: Self.at(3)),
        CallSite(callee: "write", symbol: "c:@F@write", location: Self.at(4)),
      ], nonLocalWrites: [],
      body: .block([
        .declare("i"),
        write("i", .copy(FlowNames.element("pointer", at: "length", plus: -2))),
        .branch(.compare(variable: "i", .notEqual, 255), then: .call(index: 0, result: nil), else: .block([])),
        write("length", .adjusted(-2)),
        .branch(.compare(variable: "length", .less, 1), then: .call(index: 1, result: nil), else: .block([])),
        .call(index: 2, result: nil),
      ]), parameters: ["pointer", "length"])
    let buffer = AbstractValue.delimited(elements: [0: 31], lengthParameter: 1, fromEnd: [1: 240, 2: 255])
    #expect(ReachableCalls.indices(of: printsub, given: [0: buffer, 1: .within(7...11)]) == [2])
    // The length alone decides the second test only; the buffer alone, the first.
    #expect(ReachableCalls.indices(of: printsub, given: [1: .within(7...11)]) == [0, 2])
    #expect(ReachableCalls.indices(of: printsub, given: [0: buffer]) == [1, 2])
    #expect(ReachableCalls.relevantParameters(of: printsub) == [0, 1])
    // A store to `length` forgets what was known through it.
    #expect(FlowNames.name("pointer[length-2]", dependsOn: "length"))
    #expect(FlowNames.name("pointer[length-2]", dependsOn: "pointer"))
    #expect(!FlowNames.name("pointer[lengths-2]", dependsOn: "length"))
    #expect(!FlowNames.name("pointers", dependsOn: "pointer"))
  }

  /// screen's `ty = hi + he - 1` with `hi = he = 0`: the loop guarded by `ty >= 0` never runs.
  @Test func sumsOfKnownValuesDecideBranches() {
    let write = FlowNode.write(
      MemoryWrite(
        target: .local, text: "ty", variable: "ty", location: Self.at(1),
        value: .sum(terms: ["hi": 1, "he": 1], constant: -1)))
    let resize = FunctionFacts(
      symbol: "c:@F@resize", name: "resize", location: Self.at(0),
      calls: [CallSite(callee: "malloc", symbol: "c:@F@malloc", location: Self.at(2))], nonLocalWrites: [],
      body: .block([
        .declare("ty"), write,
        .loop(
          .branch(
            .compare(variable: "ty", .greaterOrEqual, 0), then: .call(index: 0, result: nil), else: .jump(.breakOut))),
      ]), parameters: ["hi", "he"])
    #expect(ReachableCalls.indices(of: resize, given: [0: .exactly(0), 1: .exactly(0)]).isEmpty)
    #expect(ReachableCalls.indices(of: resize, given: [0: .exactly(0), 1: .within(1...24)]) == [0])
    #expect(ReachableCalls.indices(of: resize, given: [0: .exactly(0)]) == [0])
  }

  /// scp's `killchild`: `if (signo) _exit(1); exit(1);` never reaches `exit` with a signal
  /// number; with nothing known every call is kept.
  @Test func callsThatDoNotReturnEndThePath() {
    let killchild = FunctionFacts(
      symbol: "c:@F@killchild", name: "killchild", location: Self.at(0),
      calls: [
        CallSite(callee: "_exit", symbol: "c:@F@_exit", location: Self.at(1), neverReturns: true),
        CallSite(callee: "exit", symbol: "c:@F@exit", location: Self.at(2)),
      ], nonLocalWrites: [],
      body: .block([
        .branch(.truthy("signo"), then: .call(index: 0, result: nil), else: .block([])),
        .call(index: 1, result: nil),
      ]), parameters: ["signo"])
    let handler = ReachableCalls.indices(of: killchild, given: [0: .within(1...64)], after: [], ending: [0])
    #expect(handler.reached == [0])
    #expect(ReachableCalls.indices(of: killchild, given: [0: .exactly(0)], after: [], ending: [0]).reached == [1])
    #expect(ReachableCalls.indices(of: killchild, given: [:], after: [], ending: [0]).reached == [0, 1])
  }

  @Test func constantArgumentsFlowIntoCallees() throws {
    let caller = FunctionFacts(
      symbol: "c:@F@caller", name: "caller", location: Self.at(10),
      calls: [
        CallSite(callee: "helper", symbol: "c:@F@helper", location: Self.at(11), argumentValues: [0: .constant(2)])
      ], nonLocalWrites: [])
    let program = ProgramGraph(files: [FileFacts(path: "a.c", functions: [caller, Self.helper])])
    let search = UnsafeCallSearch { if case .unsafe = $0 { return true } else { return false } }
    let findings = search.findings(
      startingWith: caller.calls, in: "caller", program: program, knowledge: try Knowledge())
    #expect(findings.map(\.call.callee) == ["free"])
  }
}
