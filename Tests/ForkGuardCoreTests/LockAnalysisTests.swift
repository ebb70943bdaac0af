import ForkGuardCore
import Testing

/// Lock summaries on hand-built facts, independent of the C front end.
@Suite("Lock analysis")
struct LockAnalysisTests {
  static let global = LockReference(kind: .global, symbol: "c:@g", text: "g")
  static let parameter = LockReference(kind: .parameter, symbol: "0", text: "m")

  static func at(_ line: Int) -> ForkGuardCore.SourceLocation {
    ForkGuardCore.SourceLocation(file: "a.c", line: line, column: 1)
  }

  static func call(_ name: String, _ line: Int, lock: LockReference? = nil, defined: Bool = false) -> CallSite {
    CallSite(
      callee: name, symbol: defined ? "c:@F@\(name)" : "c:@F@\(name)", location: at(line),
      lockArguments: lock.map { [0: $0] } ?? [:])
  }

  static func function(_ name: String, _ calls: [CallSite]) -> FunctionFacts {
    FunctionFacts(symbol: "c:@F@\(name)", name: name, location: at(0), calls: calls, nonLocalWrites: [])
  }

  func analyse(_ functions: [FunctionFacts]) throws -> LockAnalysis {
    let program = ProgramGraph(files: [FileFacts(path: "a.c", functions: functions)])
    let knowledge = try Knowledge()
    return LockAnalysis(
      program: program, process: ProcessModel(program: program, knowledge: knowledge), knowledge: knowledge)
  }

  @Test func helperThatLocksReturnsHoldingIt() throws {
    let analysis = try analyse([Self.function("take", [Self.call("pthread_mutex_lock", 1, lock: Self.parameter)])])
    let summary = try #require(analysis.summaries["c:@F@take"])
    #expect(Array(summary.heldOnReturn.keys) == [Self.parameter])
    #expect(Array(summary.acquires.keys) == [Self.parameter])
  }

  @Test func helperThatUnlocksReleasesIt() throws {
    let analysis = try analyse([Self.function("drop", [Self.call("pthread_mutex_unlock", 1, lock: Self.global)])])
    #expect(analysis.summaries["c:@F@drop"]?.releasedOnReturn == [Self.global])
    #expect(analysis.summaries["c:@F@drop"]?.heldOnReturn.isEmpty == true)
  }

  @Test func lockThenUnlockLeavesNothingHeld() throws {
    let analysis = try analyse([
      Self.function(
        "both",
        [
          Self.call("pthread_mutex_lock", 1, lock: Self.global),
          Self.call("pthread_mutex_unlock", 2, lock: Self.global),
        ])
    ])
    #expect(analysis.summaries["c:@F@both"]?.heldOnReturn.isEmpty == true)
    #expect(analysis.summaries["c:@F@both"]?.releasedOnReturn.isEmpty == true)
  }

  @Test func parametersTranslateThroughCalls() throws {
    let take = Self.function("take", [Self.call("pthread_mutex_lock", 1, lock: Self.parameter)])
    let caller = Self.function("caller", [Self.call("take", 5, lock: Self.global, defined: true)])
    let analysis = try analyse([take, caller])
    let summary = try #require(analysis.summaries["c:@F@caller"])
    #expect(Array(summary.heldOnReturn.keys) == [Self.global])
    #expect(summary.heldOnReturn[Self.global]?.chain.map(\.call.callee) == ["take"])
    #expect(LockAnalysis.translate(Self.parameter, at: Self.call("take", 5, lock: Self.global)) == Self.global)
    #expect(
      LockAnalysis.translate(LockReference(kind: .local, symbol: "x", text: "x"), at: Self.call("take", 5)) == nil)
  }

  @Test func recursionReachesAFixedPoint() throws {
    let a = Self.function(
      "a", [Self.call("b", 1, defined: true), Self.call("pthread_mutex_lock", 2, lock: Self.global)])
    let b = Self.function("b", [Self.call("a", 3, defined: true)])
    let analysis = try analyse([a, b])
    #expect(analysis.summaries["c:@F@b"]?.acquires[Self.global] != nil)
  }

  /// Each function takes the lock and then calls the next, around a cycle: the witness of
  /// what each returns holding comes back one call longer on every pass. The fixed point
  /// must settle on what is held, not wait for witnesses (git's tree ran out of budget).
  @Test func aLockHeldAroundACycleSettlesInAFewRunsPerFunction() throws {
    let count = 300
    let take = Self.function("take", [Self.call("pthread_mutex_lock", 1, lock: Self.global)])
    let cycle = (0..<count).map { index in
      Self.function(
        "f\(index)",
        [Self.call("take", 10 + index, defined: true), Self.call("f\((index + 1) % count)", 10 + index, defined: true)])
    }
    let analysis = try analyse([take] + cycle)
    #expect(analysis.flowRuns <= 3 * (count + 1))
    for index in 0..<count {
      let summary = try #require(analysis.summaries["c:@F@f\(index)"])
      #expect(Array(summary.heldOnReturn.keys) == [Self.global])
      #expect(summary.acquires[Self.global]?.chain.map(\.call.callee) == ["take"])
    }
  }

  @Test func readLocksDoNotConflict() throws {
    let knowledge = try Knowledge()
    let read = LockEvent(call: Self.call("pthread_rwlock_rdlock", 1, lock: Self.global), function: "f", chain: [])
    let write = LockEvent(call: Self.call("pthread_rwlock_wrlock", 2, lock: Self.global), function: "f", chain: [])
    #expect(!read.conflicts(with: read, knowledge))
    #expect(read.conflicts(with: write, knowledge))
    #expect(write.conflicts(with: write, knowledge))
  }
}
