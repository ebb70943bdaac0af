import ForkGuardCore

/// Calls that are not async-signal-safe in a signal handler or anything it calls.
public struct SignalHandlerUnsafeCall: Rule {
  public let id = "signal-handler-unsafe-call"
  public let summary = "non-async-signal-safe call in a signal handler"

  public init() {}

  public func check(_ input: AnalysisInput, report: (Diagnostic) -> Void) {
    let wording = AsyncSignalSafetyReport(
      ruleID: id,
      consequence: "a signal that interrupts a thread inside it can deadlock or corrupt state",
      defaultFix: "set a 'volatile sig_atomic_t' flag in the handler and act on it outside",
      reportsLockFunctions: true)
    for context in input.program.handlerContexts([.signalHandler]) {
      let notes = [
        DiagnosticNote(
          location: context.registration.location,
          message: "'\(context.handler.name)' registered here as signal handler")
      ]
      wording.report(
        from: context.handler.calls, in: context.handler.name, entered: [context.handler.symbol],
        context: "signal handler", contextNotes: notes, input: input, report: report)
    }
  }
}
