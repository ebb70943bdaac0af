import ForkGuardCore
import Testing

/// The fork-region analysis on hand-built flow, independent of any front end.
@Suite("Child region analysis")
struct ChildRegionAnalysisTests {
  /// Call names by index; `fork`, `vfork`, `execve`, `_exit` have their effects.
  struct Program {
    var names: [String] = []
    mutating func call(_ name: String, into result: String? = nil) -> FlowNode {
      names.append(name)
      return .call(index: names.count - 1, result: result)
    }
    func regions(_ body: FlowNode) -> [ChildRegionAnalysis.Region] {
      ChildRegionAnalysis.regions(
        of: body, bodyEnd: ForkGuardCore.SourceLocation(file: "f.c", line: 99, column: 1),
        effectOfCall: { index in
          switch names[index] {
          case "fork": return .fork(.fork)
          case "vfork": return .fork(.vfork)
          case "execve": return .exec
          case "_exit", "exit": return .exitProcess
          default: return .normal
          }
        })
    }
    func childCalls(_ body: FlowNode) -> [String] {
      regions(body).flatMap(\.calls).map { names[$0] }
    }
  }

  static let returnHere = FlowNode.jump(
    .returnFromFunction(ForkGuardCore.SourceLocation(file: "f.c", line: 50, column: 3)))

  @Test func childBranchIsTheChild() {
    var p = Program()
    let body = FlowNode.block([
      p.call("fork", into: "pid"),
      .branch(
        .compare(variable: "pid", .equal, 0),
        then: .block([p.call("child_work"), p.call("execve"), p.call("_exit")]),
        else: p.call("parent_work")),
      p.call("after"),
    ])
    // The terminating calls are the child's too, and a failed exec leads to _exit.
    #expect(p.childCalls(body) == ["child_work", "execve", "_exit"])
  }

  @Test func codeBeforeTheTestRunsInBoth() {
    var p = Program()
    let body = FlowNode.block([
      p.call("fork", into: "pid"), p.call("both"),
      .branch(.compare(variable: "pid", .greater, 0), then: Self.returnHere, else: .block([])),
      p.call("child_only"), p.call("_exit"),
    ])
    #expect(p.childCalls(body) == ["both", "child_only", "_exit"])
  }

  @Test func failedForkBranchIsTheParent() {
    var p = Program()
    let body = FlowNode.block([
      p.call("fork", into: "pid"),
      .branch(
        .compare(variable: "pid", .equal, -1), then: .block([p.call("perror"), p.call("exit")]), else: .block([])),
      .branch(.not(.truthy("pid")), then: .block([p.call("child"), p.call("_exit")]), else: .block([])),
      p.call("parent"),
    ])
    #expect(p.childCalls(body) == ["child", "_exit"])
  }

  @Test func lessThanZeroThenGreaterThanZeroLeavesTheChild() {
    var p = Program()
    let body = FlowNode.block([
      p.call("fork", into: "pid"),
      .branch(.compare(variable: "pid", .less, 0), then: Self.returnHere, else: .block([])),
      .branch(.compare(variable: "pid", .greater, 0), then: Self.returnHere, else: .block([])),
      p.call("child"), p.call("_exit"),
    ])
    let regions = p.regions(body)
    #expect(p.childCalls(body) == ["child", "_exit"])
    #expect(regions.first?.returns.isEmpty == true)
  }

  @Test func returningChildIsRecorded() {
    var p = Program()
    let body = FlowNode.block([
      p.call("fork", into: "pid"),
      .branch(.compare(variable: "pid", .equal, 0), then: .block([p.call("work"), Self.returnHere]), else: .block([])),
    ])
    #expect(p.regions(body).first?.returns == [ForkGuardCore.SourceLocation(file: "f.c", line: 50, column: 3)])
  }

  @Test func fallingOffTheEndIsAReturn() {
    var p = Program()
    let body = FlowNode.block([p.call("fork", into: "pid"), p.call("work")])
    #expect(p.regions(body).first?.returns == [ForkGuardCore.SourceLocation(file: "f.c", line: 99, column: 1)])
  }

  @Test func switchCasesNarrowAndFallThrough() {
    var p = Program()
    let body = FlowNode.block([
      p.call("fork", into: "pid"),
      .switchOn(
        variable: "pid",
        arms: [
          SwitchArm(values: [-1], isDefault: false, body: .block([p.call("failed"), .jump(.breakOut)])),
          SwitchArm(values: [0], isDefault: false, body: p.call("child")),
          SwitchArm(
            values: [], isDefault: true, body: .block([p.call("child_fell_through_or_parent"), Self.returnHere])),
        ]),
      p.call("after"),
    ])
    // The child falls from case 0 into default, which returns: nothing after the switch.
    #expect(p.childCalls(body) == ["child", "child_fell_through_or_parent"])
  }

  @Test func bindingSurvivesJoinWithPathThatNeverForked() {
    // pid = try_clone(); if (pid < 0) { pid = fork(); } if (pid < 0) return; if (pid == 0) {…}
    var p = Program()
    let body = FlowNode.block([
      p.call("try_clone", into: "pid"),
      .branch(.compare(variable: "pid", .less, 0), then: p.call("fork", into: "pid"), else: .block([])),
      .branch(
        .compare(variable: "pid", .less, 0), then: .block([p.call("cleanup"), Self.returnHere]), else: .block([])),
      .branch(
        .compare(variable: "pid", .equal, 0), then: .block([p.call("child"), p.call("_exit")]),
        else: p.call("parent")),
    ])
    let regions = p.regions(body)
    #expect(p.childCalls(body) == ["child", "_exit"])
    #expect(regions.first?.returns.isEmpty == true)
  }

  @Test func reassignedResultNoLongerNarrows() {
    var p = Program()
    let body = FlowNode.block([
      p.call("fork", into: "pid"),
      p.call("getpid", into: "pid"),
      .branch(.compare(variable: "pid", .equal, 0), then: .block([]), else: p.call("maybe_child")),
      p.call("_exit"),
    ])
    #expect(p.childCalls(body) == ["getpid", "maybe_child", "_exit"])
  }

  @Test func execCanFailSoTheChildGoesOn() {
    var p = Program()
    let body = FlowNode.block([
      p.call("fork", into: "pid"),
      p.call("execve"),  // returns when it fails
      p.call("after_exec"),
    ])
    #expect(p.childCalls(body) == ["execve", "after_exec"])
  }

  @Test func loopsReachAFixedPoint() {
    var p = Program()
    let body = FlowNode.block([
      .loop(
        .block([
          p.call("fork", into: "pid"),
          .branch(
            .compare(variable: "pid", .equal, 0), then: .block([p.call("worker"), p.call("_exit")]), else: .block([])),
          p.call("parent_bookkeeping"),
        ]))
    ])
    #expect(p.childCalls(body) == ["worker", "_exit"])
  }

  @Test func andOrConditionsNarrowPerOutcome() {
    var p = Program()
    let body = FlowNode.block([
      p.call("fork", into: "pid"),
      .branch(
        .and(.compare(variable: "pid", .equal, 0), .unknown),
        then: .block([p.call("child_sometimes"), p.call("_exit")]), else: .block([])),
      .branch(
        .or(.compare(variable: "pid", .greater, 0), .compare(variable: "pid", .less, 0)),
        then: Self.returnHere, else: .block([])),
      p.call("child_rest"), p.call("_exit"),
    ])
    #expect(p.childCalls(body) == ["child_sometimes", "_exit", "child_rest", "_exit"])
  }

  @Test func vforkWritesExceptResultAndChildLocals() {
    var p = Program()
    let at = ForkGuardCore.SourceLocation(file: "f.c", line: 1, column: 1)
    let body = FlowNode.block([
      p.call("vfork", into: "pid"),
      .branch(
        .compare(variable: "pid", .equal, 0),
        then: .block([
          .declare("code"),
          .write(MemoryWrite(target: .local, text: "code", variable: "code", location: at)),
          .write(MemoryWrite(target: .local, text: "status", variable: "status", location: at)),
          .write(MemoryWrite(target: .global, text: "g", location: at)),
          p.call("_exit"),
        ]), else: .block([])),
    ])
    let region = p.regions(body).first
    #expect(region?.kind == .vfork)
    #expect(region?.writes.map(\.text).sorted() == ["g", "status"])
  }
}
