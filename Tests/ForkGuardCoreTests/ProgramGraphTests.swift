import ForkGuardCore
import Testing

/// The graph resolves every function's calls once, when it is made; what it hands out must
/// be what resolving each call on its own gives, also for two programs defining one name.
@Suite("Program graph")
struct ProgramGraphTests {
  static func function(_ name: String, in file: String, line: Int = 1, calls: [String]) -> FunctionFacts {
    FunctionFacts(
      symbol: "c:@F@\(name)", name: name, location: SourceLocation(file: file, line: line, column: 1),
      calls: calls.enumerated().map {
        CallSite(
          callee: $0.element, symbol: "c:@F@\($0.element)",
          location: SourceLocation(file: file, line: line + 1 + $0.offset, column: 3))
      }, nonLocalWrites: [])
  }

  @Test func resolvedCalleesAreEachCallsDefinition() throws {
    // `quit` twice, one per program: each `main` links to its own folder's.
    let program = ProgramGraph(files: [
      FileFacts(
        path: "/p/ftp/main.c",
        functions: [
          Self.function("main", in: "/p/ftp/main.c", calls: ["quit", "helper", "malloc"]),
          Self.function("quit", in: "/p/ftp/main.c", line: 20, calls: ["exit"]),
        ]),
      FileFacts(
        path: "/p/talk/main.c",
        functions: [
          Self.function("main", in: "/p/talk/main.c", calls: ["quit"]),
          Self.function("quit", in: "/p/talk/main.c", line: 20, calls: []),
        ]),
      FileFacts(path: "/p/lib/helper.c", functions: [Self.function("helper", in: "/p/lib/helper.c", calls: ["quit"])]),
    ])
    for function in program.functions.values {
      let callees = program.callees(of: function)
      for (index, call) in function.calls.enumerated() {
        #expect(callees[index]?.symbol == program.definition(of: call)?.symbol, "\(function.symbol) \(call.callee)")
      }
    }
    let ftp = try #require(program.functions.values.first { $0.name == "main" && $0.location.file.contains("ftp") })
    let callees = program.callees(of: ftp)
    #expect(callees[0]?.location.file == "/p/ftp/main.c")
    #expect(callees[1]?.name == "helper")
    #expect(callees[2] == nil)

    // A function the graph does not hold (its calls differ) is resolved on the spot.
    let outside = Self.function("main", in: "/p/talk/main.c", calls: ["helper", "quit", "free"])
    let resolved = program.callees(of: outside)
    #expect(resolved[0]?.name == "helper")
    #expect(resolved[1]?.location.file == "/p/talk/main.c")
    #expect(resolved[2] == nil)
    let process = ProcessModel(program: program, knowledge: try Knowledge())
    #expect(process.effects(of: outside) == outside.calls.map(process.effect(of:)))
    #expect(process.effects(of: ftp) == ftp.calls.map(process.effect(of:)))
  }
}
