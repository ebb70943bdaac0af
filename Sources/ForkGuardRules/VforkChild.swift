import ForkGuardCore

/// A vfork child borrows the parent's memory and stack while the parent is suspended, so
/// until exec or _exit it may do nothing else: no other call, no store the parent would see,
/// no return from the function that called vfork.
public struct VforkChild: Rule {
  public let id = "vfork-child"
  public let summary = "vfork child does more than exec or _exit"
  public let traits = CodeScanningTraits(
    tags: ["fork-safety", "vfork", "memory-corruption", "correctness"], precision: .high)

  public init() {}

  public func check(_ input: AnalysisInput, report: (Diagnostic) -> Void) {
    let knowledge = input.knowledge
    for region in input.process.childRegions(.vfork) {
      let notes = [DiagnosticNote(location: region.forkLocation, message: "\(region.forkCallee) child starts here")]
      for call in region.calls where !knowledge.isVforkAllowed(call.callee) {
        report(diagnostic(call: call, knowledge: knowledge, notes: notes))
      }
      for write in region.writes {
        report(diagnostic(write: write, notes: notes))
      }
      for exit in region.returns {
        report(
          Diagnostic(
            ruleID: id, severity: .warning, location: exit,
            message:
              "vfork child returns from '\(region.functionName)'; the parent's stack frame is gone when the parent resumes; call '_exit' instead",
            notes: notes))
      }
    }
    for context in input.program.handlerContexts([.cloneVforkChild]) {
      let notes = [
        DiagnosticNote(
          location: context.registration.location,
          message: "'\(context.handler.name)' started here by \(context.registration.via) with CLONE_VM|CLONE_VFORK")
      ]
      for call in context.handler.calls where !knowledge.isVforkAllowed(call.callee) {
        report(diagnostic(call: call, knowledge: knowledge, notes: notes))
      }
      for write in context.handler.nonLocalWrites {
        report(diagnostic(write: write, notes: notes))
      }
    }
  }

  private func diagnostic(call: CallSite, knowledge: Knowledge, notes: [DiagnosticNote]) -> Diagnostic {
    var message =
      "'\(call.callee)' called in a vfork child; only exec and _exit are allowed while the child shares the parent's memory and stack"
    if case .unsafe(let reasons) = knowledge.safety(of: call.callee), !reasons.contains(where: { $0.hasPrefix("is ") })
    {
      message += "; it \(reasons.joined(separator: " and ")) in the parent's memory"
    }
    message += "; use fork or posix_spawn, or do this before vfork"
    return Diagnostic(ruleID: id, severity: .warning, location: call.location, message: message, notes: notes)
  }

  private func diagnostic(write: MemoryWrite, notes: [DiagnosticNote]) -> Diagnostic {
    let whose: String
    switch write.target {
    case .global: whose = "a global the parent shares"
    case .indirect: whose = "memory the parent shares"
    case .local: whose = "a variable in the parent's stack frame"
    }
    return Diagnostic(
      ruleID: id, severity: .warning, location: write.location,
      message:
        "vfork child assigns '\(write.text)', \(whose); the parent sees the change when it resumes; assign before vfork or use fork",
      notes: notes)
  }
}
