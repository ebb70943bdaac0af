import ForkGuardCore

/// Calls that are not async-signal-safe between fork() and exec/_exit, in the forking
/// function and in everything it calls from there (and in `clone` children without CLONE_VM).
public struct ForkChildUnsafeCall: Rule {
  public let id = "fork-child-unsafe-call"
  public let summary = "non-async-signal-safe call in a fork child before exec or _exit"
  public let traits = CodeScanningTraits(
    tags: ["fork-safety", "async-signal-safety", "concurrency", "correctness"], precision: .high)

  public init() {}

  public func check(_ input: AnalysisInput, report: (Diagnostic) -> Void) {
    let wording = AsyncSignalSafetyReport(
      ruleID: id,
      consequence: "in the child of a multithreaded process it can deadlock or see corrupt state",
      defaultFix: "call it before fork() or after exec, or use an async-signal-safe equivalent",
      reportsLockFunctions: false)
    for region in input.process.childRegions(.fork) {
      // A fork no thread can be running at is a single-threaded process's: its child may
      // call anything.
      let (threaded, why) = input.multithreadedReason(atForkAt: region.forkLocation)
      guard threaded else { continue }
      var notes = [DiagnosticNote(location: region.forkLocation, message: "fork child starts here")]
      if let why { notes.append(why) }
      if let exit = region.returns.first {
        notes.append(
          DiagnosticNote(
            location: exit,
            message:
              "the fork child returns from '\(region.functionName)' here without exec or _exit; the rest of the program runs in the child"
          ))
      }
      // glibc's fork() makes malloc's and the streams' locks anew in the child; _Fork() does not.
      let resetsLocks = input.knowledge.resetsHeapInChild(region.forkCallee)
      wording.report(
        from: .calls(region.calls, in: region.functionName, entered: []), context: "fork child",
        heapIsConsistent: resetsLocks, stdioLocksMayBeHeld: !resetsLocks, contextNotes: notes, input: input,
        report: report)
    }
    for context in input.program.handlerContexts([.cloneForkChild]) {
      let (threaded, why) = input.multithreadedReason(atForkAt: context.registration.location)
      guard threaded else { continue }
      let notes =
        [
          DiagnosticNote(
            location: context.registration.location,
            message: "'\(context.handler.name)' started here by \(context.registration.via) as a fork child")
        ] + (why.map { [$0] } ?? [])
      wording.report(
        from: .function(context.handler, parameterValues: [:]), context: "fork child", stdioLocksMayBeHeld: true,
        contextNotes: notes, input: input, report: report)
    }
  }
}
