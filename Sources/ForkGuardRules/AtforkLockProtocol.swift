import ForkGuardCore

/// The pthread_atfork lock protocol: what the prepare handler locks, the parent and child
/// handlers must unlock (the child may re-initialise instead); and an owner-checking mutex
/// cannot be unlocked in the child, whose thread id is new.
public struct AtforkLockProtocol: Rule {
  public let id = "atfork-lock-protocol"
  public let summary = "pthread_atfork handlers that leave a lock locked, or unlock one the child cannot"
  public let traits = CodeScanningTraits(
    tags: ["fork-safety", "deadlock", "concurrency", "external/cwe/cwe-667"], precision: .medium)

  public init() {}

  public func check(_ input: AnalysisInput, report: (Diagnostic) -> Void) {
    let program = input.program
    let summaries = input.locks.summaries
    // The handlers of one pthread_atfork call share its location.
    var calls: [SourceLocation: [HandlerRegistration.Kind: [FunctionFacts]]] = [:]
    for registration in Set(program.registrations)
    where [.atforkPrepare, .atforkParent, .atforkChild].contains(registration.kind) {
      let handlers = program.functions(for: registration.handler).compactMap { program.function(symbol: $0.symbol) }
      calls[registration.location, default: [:]][registration.kind, default: []] += handlers
    }
    for location in calls.keys.sorted() {
      let handlers = calls[location]!
      for prepare in handlers[.atforkPrepare] ?? [] {
        guard let held = summaries[prepare.symbol]?.heldOnReturn else { continue }
        for (lock, event) in held.sorted(by: { $0.value.call.location < $1.value.call.location }) where lock.isShared {
          for (kind, side) in [(HandlerRegistration.Kind.atforkChild, "child"), (.atforkParent, "parent")] {
            let releasers = handlers[kind] ?? []
            if releasers.contains(where: {
              summaries[$0.symbol]?.releasedOnReturn.contains(where: { $0.mayAlias(lock) }) == true
            }) {
              continue
            }
            let consequence =
              side == "child"
              ? "the fork child starts with it locked by a thread it does not have"
              : "the parent keeps it locked after fork() returns"
            let handlerText =
              releasers.first.map { "the \(side) handler '\($0.name)' does not unlock it" }
              ?? "there is no \(side) handler to unlock it"
            var notes = LockNotes.chain(event.chain)
            notes.append(DiagnosticNote(location: location, message: "handlers registered here by pthread_atfork"))
            report(
              Diagnostic(
                ruleID: id, severity: .warning, location: event.call.location,
                message:
                  "pthread_atfork prepare handler '\(prepare.name)' locks '\(lock.text)' but \(handlerText); \(consequence); unlock it in the \(side) handler\(side == "child" ? " or re-initialise it" : "")",
                notes: notes))
          }
        }
      }
      for child in handlers[.atforkChild] ?? [] {
        guard let releases = summaries[child.symbol]?.releases else { continue }
        for (lock, event) in releases.sorted(by: { $0.value.call.location < $1.value.call.location }) {
          guard let attribute = input.locks.lockTypes.alias(of: lock)?.value else { continue }
          var notes = LockNotes.chain(event.chain)
          notes.append(
            DiagnosticNote(
              location: attribute.location,
              message:
                "'\(lock.text)' made \(attribute.type == "recursive" ? "a recursive" : "an error-checking") mutex here")
          )
          notes.append(
            DiagnosticNote(
              location: location, message: "'\(child.name)' registered here as pthread_atfork child handler"))
          report(
            Diagnostic(
              ruleID: id, severity: .warning, location: event.call.location,
              message:
                "'\(event.call.callee)' of \(attribute.type == "recursive" ? "recursive" : "error-checking") mutex '\(lock.text)' in the atfork child handler fails with EPERM on glibc: the child runs with a new thread id, so it does not own the mutex; re-initialise it with 'pthread_mutex_init' instead",
              notes: notes))
        }
      }
    }
  }
}
