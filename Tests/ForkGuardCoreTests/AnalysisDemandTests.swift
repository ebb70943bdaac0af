import ForkGuardCore
import Testing

/// What the demand-driven parse asks for, on hand-built facts: everything a context can
/// reach, and only that.
@Suite("Analysis demand")
struct AnalysisDemandTests {
  static func at(_ file: String, _ line: Int) -> ForkGuardCore.SourceLocation {
    ForkGuardCore.SourceLocation(file: file, line: line, column: 1)
  }

  static func call(_ name: String, in file: String = "a.c", _ line: Int = 1) -> CallSite {
    CallSite(callee: name, symbol: "c:@F@\(name)", location: at(file, line))
  }

  static func function(_ name: String, in file: String, _ calls: [CallSite], symbol: String? = nil) -> FunctionFacts {
    FunctionFacts(
      symbol: symbol ?? "c:@F@\(name)", name: name, location: at(file, 1), calls: calls, nonLocalWrites: [])
  }

  static func region(in function: String, file: String, _ calls: [CallSite]) -> ChildRegion {
    ChildRegion(
      kind: .fork, forkCallee: "fork", forkLocation: at(file, 2), function: "c:@F@\(function)",
      functionName: function, calls: calls, returns: [], writes: [])
  }

  static func demand() throws -> AnalysisDemand {
    let knowledge = try Knowledge()
    return AnalysisDemand(
      takesLock: knowledge.takesLock, startsThread: knowledge.startsThread,
      isUnsafe: { name in
        if case .unsafe = knowledge.safety(of: name) { return true }
        return false
      }, isLibraryFunction: knowledge.isLibraryFunction)
  }

  @Test func aForkChildWantsWhatItCallsAndWhatThoseCall() throws {
    var demand = try Self.demand()
    var spawn = FileFacts(path: "spawn.c", functions: [Self.function("spawn", in: "spawn.c", [Self.call("fork")])])
    spawn.childRegions = [Self.region(in: "spawn", file: "spawn.c", [Self.call("log_line"), Self.call("_exit")])]
    demand.add(spawn)
    // What the child calls, and the programs' entries.
    #expect(Set(demand.takeWants()) == [.definition("log_line"), .definition("_exit"), .definition("main")])
    demand.add(
      FileFacts(
        path: "log.c",
        functions: [
          Self.function("log_line", in: "log.c", [Self.call("format")]),
          Self.function("unrelated", in: "log.c", [Self.call("printf")]),
        ]))
    // Only what the child reaches: not what `unrelated` calls.
    #expect(demand.takeWants() == [.definition("format")])
    demand.add(
      FileFacts(path: "format.c", functions: [Self.function("format", in: "format.c", [Self.call("snprintf")])]))
    _ = demand.takeWants()
    // The child calls snprintf: whether a thread runs at the fork matters, so the way from
    // the entry to the fork is wanted.
    demand.settle()
    #expect(demand.takeWants() == [.mention("spawn")])
  }

  @Test func staticFunctionsAreNotLookedForElsewhere() throws {
    var demand = try Self.demand()
    var file = FileFacts(path: "a.c")
    file.childRegions = [
      Self.region(
        in: "spawn", file: "a.c", [CallSite(callee: "helper", symbol: "c:a.c@F@helper", location: Self.at("a.c", 3))])
    ]
    demand.add(file)
    #expect(!demand.takeWants().contains(.definition("helper")))
  }

  @Test func aHandlerHeldInAGlobalWantsTheFilesThatStoreIt() throws {
    var demand = try Self.demand()
    var registering = FileFacts(path: "a.c")
    registering.registrations = [
      HandlerRegistration(
        kind: .signalHandler, handler: .variable(symbol: "c:@on_signal", name: "on_signal"),
        location: Self.at("a.c", 4), via: "signal", registeringFunction: "main")
    ]
    demand.add(registering)
    #expect(Set(demand.takeWants()) == [.mention("on_signal"), .definition("main")])
    var storing = FileFacts(path: "b.c")
    storing.pointerStores = [
      PointerStore(variable: "c:@on_signal", value: .function(symbol: "c:@F@quit", name: "quit"))
    ]
    demand.add(storing)
    #expect(demand.takeWants() == [.definition("quit")])
  }

  @Test func aChildThatTakesALockWantsTheCallersOfItsFork() throws {
    var demand = try Self.demand()
    var spawn = FileFacts(path: "spawn.c", functions: [Self.function("spawn", in: "spawn.c", [Self.call("fork")])])
    spawn.childRegions = [Self.region(in: "spawn", file: "spawn.c", [Self.call("pthread_mutex_lock")])]
    demand.add(spawn)
    let first = demand.takeWants()
    demand.settle()
    #expect((first + demand.takeWants()).contains(.mention("spawn")))
    // A caller arrives: it and everything it calls now matter (it may hold the lock), and
    // so do its own callers.
    demand.add(
      FileFacts(
        path: "main.c",
        functions: [
          Self.function("run", in: "main.c", [Self.call("take_lock"), Self.call("spawn")])
        ]))
    #expect(Set(demand.takeWants()) == [.definition("run"), .mention("run"), .definition("take_lock")])
  }

  @Test func aChildWithoutLocksLeavesItsCallersAlone() throws {
    var demand = try Self.demand()
    var spawn = FileFacts(path: "spawn.c", functions: [Self.function("spawn", in: "spawn.c", [Self.call("fork")])])
    spawn.childRegions = [Self.region(in: "spawn", file: "spawn.c", [Self.call("write")])]
    demand.add(spawn)
    _ = demand.takeWants()
    demand.settle()
    #expect(demand.takeWants().isEmpty)
  }

  @Test func everyDefinitionOfAReachedFunctionIsFollowed() throws {
    // Two programs in one project each define cleanup(); which one the graph keeps
    // depends on the files parsed, so both bodies' calls are wanted.
    var demand = try Self.demand()
    var spawn = FileFacts(path: "b.c", functions: [Self.function("cleanup", in: "b.c", [Self.call("first")])])
    spawn.childRegions = [Self.region(in: "spawn", file: "b.c", [Self.call("cleanup")])]
    demand.add(spawn)
    #expect(Set(demand.takeWants()) == [.definition("cleanup"), .definition("first"), .definition("main")])
    demand.add(FileFacts(path: "a.c", functions: [Self.function("cleanup", in: "a.c", [Self.call("second")])]))
    #expect(demand.takeWants() == [.definition("second")])
  }

  @Test func aForkWantsTheWayFromTheEntryToIt() throws {
    // Whether a thread can run at the fork depends on what runs before it on the way from
    // `main`: the callers of the forking function, up to the entry, are wanted.
    var demand = try Self.demand()
    var spawn = FileFacts(path: "spawn.c", functions: [Self.function("spawn", in: "spawn.c", [Self.call("fork")])])
    spawn.childRegions = [Self.region(in: "spawn", file: "spawn.c", [Self.call("printf"), Self.call("_exit")])]
    demand.add(spawn)
    _ = demand.takeWants()
    demand.settle()
    #expect(demand.takeWants() == [.mention("spawn")])
    demand.add(FileFacts(path: "run.c", functions: [Self.function("run_job", in: "run.c", [Self.call("spawn")])]))
    #expect(demand.takeWants() == [.mention("run_job")])
    // `main` has no callers to look for.
    demand.add(FileFacts(path: "main.c", functions: [Self.function("main", in: "main.c", [Self.call("run_job")])]))
    #expect(demand.takeWants().isEmpty)
  }

  @Test func withoutThreadStartsAForkAMainCoversNeedsNoCallers() throws {
    // No file names a way to start a thread: a fork below a `main`'s folder is
    // single-threaded whatever calls it. A fork no `main` covers (library code) still
    // wants its callers: they decide whether a program reaches it.
    let knowledge = try Knowledge()
    var demand = AnalysisDemand(
      takesLock: knowledge.takesLock, startsThread: knowledge.startsThread, isUnsafe: { _ in true },
      isLibraryFunction: knowledge.isLibraryFunction, threadsPossible: false)
    demand.add(
      FileFacts(path: "src/main.c", functions: [Self.function("main", in: "src/main.c", [Self.call("run")])]))
    var spawn = FileFacts(
      path: "src/spawn.c", functions: [Self.function("spawn", in: "src/spawn.c", [Self.call("fork")])])
    spawn.childRegions = [Self.region(in: "spawn", file: "src/spawn.c", [Self.call("printf")])]
    var daemon = FileFacts(
      path: "lib/daemon.c", functions: [Self.function("detach", in: "lib/daemon.c", [Self.call("fork")])])
    daemon.childRegions = [Self.region(in: "detach", file: "lib/daemon.c", [Self.call("printf")])]
    demand.add(spawn)
    demand.add(daemon)
    _ = demand.takeWants()
    demand.settle()
    #expect(demand.takeWants() == [.mention("detach")])
  }

  @Test func aCarefulChildLeavesTheWayToItsForkAlone() throws {
    // A child that only execs and _exits is fine whatever threads run: its callers are
    // not parsed for it; nor are callers of a compat file's own `daemon`.
    var demand = try Self.demand()
    var spawn = FileFacts(path: "spawn.c", functions: [Self.function("spawn", in: "spawn.c", [Self.call("fork")])])
    spawn.childRegions = [Self.region(in: "spawn", file: "spawn.c", [Self.call("execve"), Self.call("_exit")])]
    var daemon = FileFacts(path: "compat/daemon.c")
    daemon.childRegions = [
      Self.region(in: "daemon", file: "compat/daemon.c", [Self.call("setsid"), Self.call("printf")])
    ]
    demand.add(spawn)
    demand.add(daemon)
    _ = demand.takeWants()
    demand.settle()
    #expect(demand.takeWants().isEmpty)
  }

  @Test func aRegistrationWrappersCallersPassHandlers() throws {
    // ssh_signal(sig, handler) passes its parameter to sigaction: what its callers pass
    // are handlers, and their definitions are wanted.
    var demand = try Self.demand()
    var wrapper = FileFacts(path: "misc.c")
    wrapper.registrations = [
      HandlerRegistration(
        kind: .signalHandler, handler: .parameter(index: 1, name: "handler"), location: Self.at("misc.c", 3),
        via: "sigaction", registeringFunction: "ssh_signal", registeringSymbol: "c:@F@ssh_signal")
    ]
    demand.add(wrapper)
    #expect(demand.takeWants().contains(.mention("ssh_signal")))
    var call = Self.call("ssh_signal", in: "sshd.c", 9)
    call.functionArguments = [1: [.function(symbol: "c:@F@grace_alarm_handler", name: "grace_alarm_handler")]]
    demand.add(FileFacts(path: "sshd.c", functions: [Self.function("server_loop", in: "sshd.c", [call])]))
    #expect(demand.takeWants().contains(.definition("grace_alarm_handler")))
  }
}
