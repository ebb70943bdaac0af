import ForkGuardCore

/// The fork child takes a lock that another thread also takes: that thread may hold it at
/// the fork, and the child's copy then stays locked forever.
public struct ForkChildLock: Rule {
  public let id = "fork-child-lock"
  public let summary = "fork child takes a lock another thread may hold at the fork"
  public let traits = CodeScanningTraits(
    tags: ["fork-safety", "deadlock", "concurrency", "external/cwe/cwe-667", "external/cwe/cwe-833"], precision: .medium
  )

  public init() {}

  public func check(_ input: AnalysisInput, report: (Diagnostic) -> Void) {
    let program = input.program
    let locks = input.locks
    let threads = program.handlerContexts([.threadStart])
    guard !threads.isEmpty else { return }
    let protected = atforkProtectedLocks(input)

    var children: [(calls: [CallSite], caller: String, start: DiagnosticNote)] = []
    // A thread started only after the fork cannot hold the lock at it.
    for region in input.process.childRegions(.fork)
    where input.multithreadedReason(atForkAt: region.forkLocation).0 {
      children.append(
        (
          region.calls, region.functionName,
          DiagnosticNote(location: region.forkLocation, message: "fork child starts here")
        ))
    }
    for context in program.handlerContexts([.cloneForkChild]) {
      children.append(
        (
          context.handler.calls, context.handler.name,
          DiagnosticNote(
            location: context.registration.location,
            message: "'\(context.handler.name)' started here by \(context.registration.via) as a fork child")
        ))
    }
    var reported = Set<String>()
    for child in children {
      for call in child.calls {
        for (lock, use) in locks.acquisitions(of: call, in: child.caller, program: program, knowledge: input.knowledge)
        where lock.isShared && !protected.contains(where: { $0.mayAlias(lock) }) {
          // A thread another program starts (dbus's test-counter beside test-service) is
          // not in the child's parent.
          guard
            let thread = threads.first(where: {
              program.mayShareProcess($0.registration.location.file, child.start.location.file)
                && locks.summaries[$0.handler.symbol]?.acquires.alias(of: lock)?.value.conflicts(
                  with: use, input.knowledge) == true
            }),
            let threadUse = locks.summaries[thread.handler.symbol]?.acquires.alias(of: lock)?.value,
            reported.insert("\(child.start.location)|\(use.call.location)|\(lock.kind)|\(lock.symbol)").inserted
          else { continue }
          let name = LockNotes.text(of: use, input.knowledge, or: lock)
          var notes = LockNotes.chain(use.chain)
          notes.append(child.start)
          let threadName = LockNotes.text(of: threadUse, input.knowledge, or: lock)
          notes += LockNotes.event(threadUse, "thread '\(thread.handler.name)' locks \(threadName) here")
          notes.append(
            DiagnosticNote(
              location: thread.registration.location,
              message: "'\(thread.handler.name)' started here as a thread by \(thread.registration.via)"))
          let outcome =
            input.knowledge.lockFunction(use.call.callee)?.role == .tryAcquire ? "fails every time" : "blocks forever"
          report(
            Diagnostic(
              ruleID: id, severity: .warning, location: use.call.location,
              message:
                "fork child takes \(name), which thread '\(thread.handler.name)' also locks; if that thread holds it at the fork, the child's '\(use.call.callee)' \(outcome); take \(name) in a pthread_atfork prepare handler and release it in the parent and child handlers, or keep the child off it",
              notes: notes))
        }
      }
    }
  }

  /// Locks that some pthread_atfork prepare handler takes: no other thread holds them at the fork.
  private func atforkProtectedLocks(_ input: AnalysisInput) -> Set<LockReference> {
    var locks = Set<LockReference>()
    for context in input.program.handlerContexts([.atforkPrepare]) {
      let summary = input.locks.summaries[context.handler.symbol]
      locks.formUnion((summary?.heldOnReturn.keys).map(Array.init) ?? [])
      locks.formUnion((summary?.acquires.keys).map(Array.init) ?? [])
    }
    return locks
  }
}
