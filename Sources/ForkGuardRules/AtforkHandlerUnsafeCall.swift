import ForkGuardCore

/// Calls that are not async-signal-safe in a `pthread_atfork` child handler, which runs in
/// the fork child. Prepare and parent handlers run in the parent with every thread alive and
/// are not restricted (see docs/rules/atfork-handler-unsafe-call.md).
public struct AtforkHandlerUnsafeCall: Rule {
  public let id = "atfork-handler-unsafe-call"
  public let summary = "non-async-signal-safe call in a pthread_atfork child handler"
  public let traits = CodeScanningTraits(
    tags: ["fork-safety", "async-signal-safety", "concurrency", "correctness"], precision: .high)

  public init() {}

  public func check(_ input: AnalysisInput, report: (Diagnostic) -> Void) {
    let wording = AsyncSignalSafetyReport(
      ruleID: id,
      consequence: "the child handler runs in the fork child, where it can deadlock or see corrupt state",
      defaultFix: "reset state with async-signal-safe calls only (unlock or re-initialise), or defer the work",
      reportsLockFunctions: false)
    for context in input.program.handlerContexts([.atforkChild]) {
      let notes = [
        DiagnosticNote(
          location: context.registration.location,
          message: "'\(context.handler.name)' registered here as pthread_atfork child handler")
      ]
      wording.report(
        from: .function(context.handler, parameterValues: [:]), context: "pthread_atfork child handler",
        contextNotes: notes, input: input, report: report)
    }
  }
}
