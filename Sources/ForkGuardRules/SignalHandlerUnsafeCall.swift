import ForkGuardCore

/// Calls that are not async-signal-safe in a signal handler or anything it calls.
public struct SignalHandlerUnsafeCall: Rule {
  public let id = "signal-handler-unsafe-call"
  public let summary = "non-async-signal-safe call in a signal handler"
  // Signal handlers that call unsafe functions are how CVE-2024-6387 (CVSS 8.1) happened.
  public let traits = CodeScanningTraits(
    tags: ["security", "async-signal-safety", "external/cwe/cwe-479", "external/cwe/cwe-364"], precision: .high,
    securitySeverity: 8.1)

  public init() {}

  /// SIGRTMAX on Linux.
  static let highestSignal = 64

  public func check(_ input: AnalysisInput, report: (Diagnostic) -> Void) {
    let wording = AsyncSignalSafetyReport(
      ruleID: id,
      consequence: "a signal that interrupts a thread inside it can deadlock or corrupt state",
      defaultFix: "set a 'volatile sig_atomic_t' flag in the handler and act on it outside",
      reportsLockFunctions: true)
    for context in input.program.handlerContexts(
      [.signalHandler], uncatchable: Set(input.knowledge.process.uncatchableSignals))
    {
      let notes = [
        DiagnosticNote(
          location: context.registration.location,
          message: "'\(context.handler.name)' registered here as signal handler")
      ]
      // The kernel calls a handler with the number of a signal it was registered for:
      // never 0 (inetd's `config(0)` start-up branch) and never above SIGRTMAX; when
      // every registration names its signal, within the lowest and highest of them
      // (git's `check_signum` rejects 32 and above; its handlers get SIGINT … SIGTERM).
      let range = context.signals.flatMap { signals in signals.min().map { $0...signals.max()! } }
      let signalNumber: [Int: AbstractValue] = [0: .within(range ?? 1...Self.highestSignal)]
      wording.report(
        from: .function(context.handler, parameterValues: signalNumber), context: "signal handler",
        singleThreadedUnlessStarted: true, contextNotes: notes, input: input, report: report)
    }
  }
}
