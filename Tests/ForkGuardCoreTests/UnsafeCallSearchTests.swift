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
