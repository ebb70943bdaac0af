import ForkGuardCore

/// A lock the forking thread holds at fork() that the child then takes: the child's copy
/// is locked by a thread the child does not have, so the child blocks forever.
public struct LockHeldAcrossFork: Rule {
  public let id = "lock-held-across-fork"
  public let summary = "fork while holding a lock that the child then takes"
  public let traits = CodeScanningTraits(
    tags: ["fork-safety", "deadlock", "concurrency", "external/cwe/cwe-667"], precision: .medium)

  public init() {}

  public func check(_ input: AnalysisInput, report: (Diagnostic) -> Void) {
    for finding in input.locks.heldAcrossFork {
      let knowledge = input.knowledge
      let lock = "'\(finding.lock.text)'"
      let useVerb =
        input.knowledge.lockFunction(finding.use.call.callee)?.role == .tryAcquire
        ? "fails every time" : "blocks forever"
      let acquired = LockNotes.text(of: finding.acquisition, knowledge, or: finding.lock)
      var notes = LockNotes.event(finding.acquisition, "\(acquired) locked here")
      notes += LockNotes.chain(finding.chainToFork)
      let used = LockNotes.text(of: finding.use, knowledge, or: finding.lock)
      notes += LockNotes.event(finding.use, "the fork child takes \(used) again here")
      report(
        Diagnostic(
          ruleID: id, severity: .warning, location: finding.fork.location,
          message:
            "'\(finding.fork.callee)' called while \(lock) is locked; the child's copy stays locked and its '\(finding.use.call.callee)' \(useVerb); unlock before forking, or unlock or re-initialise it first thing in the child",
          notes: notes))
    }
  }
}
