import ForkGuardCore

/// What the three "unsafe call in an async-signal-safe context" rules share: the search
/// from a context and the wording of its findings. Each rule says where its context starts
/// and what the consequence is.
struct AsyncSignalSafetyReport {
  var ruleID: String
  /// What goes wrong, e.g. "in the child of a multithreaded process it can deadlock".
  var consequence: String
  /// Used when the data has no suggestion for the function.
  var defaultFix: String
  /// Lock functions belong to the lock rules in fork children, not here.
  var reportsLockFunctions: Bool

  /// Where a search starts: the calls of a region of a function (a fork child), or a whole
  /// function entered with some parameters known (a signal handler).
  enum Start {
    case calls([CallSite], in: String, entered: Set<SymbolID>)
    case function(FunctionFacts, parameterValues: [Int: AbstractValue])
  }

  /// - Parameter context: what the context is (`fork child`, `signal handler`): a call that
  ///   several contexts reach is reported once, counting the others.
  /// - Parameter heapIsConsistent: the context is the child of a fork that took malloc's
  ///   locks around itself (glibc's `fork()`): calls whose only hazard is the heap are
  ///   unsafe only by the letter there, and so are the set*id calls, whose lock that fork
  ///   resets in the child.
  /// - Parameter stdioLocksMayBeHeld: the context is the child of a fork that does not make
  ///   the streams' locks anew (`_Fork`, `clone`): another thread may have held stderr's
  ///   at the fork, so a write to it can block forever even while it stays unbuffered.
  /// - Parameter singleThreadedUnlessStarted: the context runs in its program's own process
  ///   (a signal handler): if no path from the program's `main` starts a thread, the
  ///   set*id calls are one system call there.
  func report(
    from start: Start, context: String, heapIsConsistent: Bool = false, stdioLocksMayBeHeld: Bool = false,
    singleThreadedUnlessStarted: Bool = false,
    contextNotes: [DiagnosticNote], input: AnalysisInput, report: (Diagnostic) -> Void
  ) {
    // Unknown calls are searched for, then kept when reportable: a Swift call nobody
    // describes is Swift code (it allocates and takes the runtime's locks), a C one only
    // unverifiable.
    func heapOnly(_ call: CallSite) -> Bool {
      heapIsConsistent && input.knowledge.isHeapOnly(call)
    }
    func accepted(_ call: CallSite, _ safety: Safety) -> Bool {
      if heapOnly(call) { return input.knowledge.profile != .glibc }
      guard case .unknown = safety else { return true }
      return Self.isSwiftCall(call) || input.options.reportUnverifiable
    }
    // The context's process is its program's: whether that program may have left the C
    // locale decides the message look-ups, whether it may have started a thread the set*id
    // calls (each asked once, and only if such a call is found).
    let processFile = contextNotes.first?.location.file
    var leftCLocale: Bool?
    var startedThread: Bool?
    var bufferedStderr: Bool?
    /// Why the call is safe in this context's process after all, when it is (`arguments`:
    /// what its arguments hold there).
    func safeInThisProcess(_ call: CallSite, arguments: [Int: AbstractValue] = [:]) -> String? {
      if let why = input.knowledge.whySafeForArguments(call, arguments: arguments) {
        return "unsafe only by the letter here: \(why)"
      }
      if let why = input.knowledge.whySafeInCLocale(call, arguments: arguments) {
        if leftCLocale == nil { leftCLocale = processFile.map(input.leavesCLocale.mayHaveReached) ?? true }
        return leftCLocale == true ? nil : "\(Self.cLocaleNote), and there \(why)"
      }
      if !stdioLocksMayBeHeld, let why = input.knowledge.whySafeOnUnbufferedStderr(call, arguments: arguments) {
        if bufferedStderr == nil { bufferedStderr = processFile.map(input.buffersStderr.mayHaveReached) ?? true }
        return bufferedStderr == true ? nil : "unsafe only by the letter here: \(why)"
      }
      if heapIsConsistent, let why = input.knowledge.whySetxidIsOneSystemCall(call, inForkChild: true) {
        return "unsafe only by the letter here: \(why)"
      }
      if singleThreadedUnlessStarted, let why = input.knowledge.whySetxidIsOneSystemCall(call, inForkChild: false) {
        if startedThread == nil { startedThread = processFile.map(input.startsThreads.mayHaveReached) ?? true }
        return startedThread == true ? nil : "unsafe only by the letter here: \(why)"
      }
      return nil
    }
    // What glibc documents AS-Safe, what runs only once an assertion has failed, and what
    // this context's process makes safe (a message look-up in a program that stays in the
    // C locale, a set*id call without threads) stay visible at note severity, without
    // failing CI.
    func isNote(_ call: CallSite, arguments: [Int: AbstractValue] = [:]) -> Bool {
      input.knowledge.isSafeOnlyByGlibc(call) || heapOnly(call) || input.knowledge.isAssertionFailure(call)
        || safeInThisProcess(call, arguments: arguments) != nil
    }
    let search = UnsafeCallSearch(
      accepts: { safety in
        switch safety {
        case .safe: return false
        case .unsafe, .unknown: return true
        case .lock: return reportsLockFunctions
        }
      },
      // A call whose severity its arguments decide (`strsignal`, `sysconf`) marks no code as
      // reached only after a reported call: it may end up a note.
      isReported: { call, safety in
        accepted(call, safety) && !isNote(call) && !input.knowledge.severityDependsOnArguments(call)
      }, process: input.process)
    func accepted(_ finding: UnsafeCallSearch.Finding) -> Bool { accepted(finding.call, finding.safety) }
    let found: [UnsafeCallSearch.Finding]
    switch start {
    case .calls(let calls, let caller, let entered):
      found = search.findings(
        startingWith: calls, in: caller, program: input.program, knowledge: input.knowledge, alreadyEntered: entered)
    case .function(let function, let parameterValues):
      found = search.findings(
        startingIn: function, program: input.program, knowledge: input.knowledge, parameterValues: parameterValues)
    }
    let findings = found.filter { accepted($0) }
    let limit = input.options.maxChainDepth ?? Int.max
    let deep = findings.filter { $0.chain.count > limit }
    if let start = contextNotes.first, !deep.isEmpty {
      var summary = Diagnostic(
        ruleID: ruleID, severity: .note, location: start.location,
        message:
          "\(Self.contextName(start)) also reaches \(deep.count) call\(deep.count == 1 ? "" : "s") that \(deep.count == 1 ? "is" : "are") not async-signal-safe more than \(limit) calls deep (such chains mostly pass conditions that keep them from running here); --max-chain-depth 0 reports them"
      )
      summary.isSummary = true
      report(summary)
    }
    for finding in findings where finding.chain.count <= limit {
      let chainNotes = finding.chain.reversed().map { link in
        DiagnosticNote(location: link.call.location, message: "'\(link.call.callee)' called here from '\(link.caller)'")
      }
      let assertion = input.knowledge.isAssertionFailure(finding.call)
      // Reached only after an unsafe call that is reported: one mistake (calling that code
      // at all), reported where it first shows; the rest stay visible as notes.
      let afterNotes = finding.after.map { first in
        // A construct the Swift front end names `<…>` is an operation, not a call.
        let what = first.callee.hasPrefix("<") ? "an operation here that" : "'\(first.callee)' here, which"
        return [
          DiagnosticNote(
            location: first.location,
            message: "reached only after \(what) is not async-signal-safe either and is reported on its own")
        ]
      }
      let severity: Severity =
        isNote(finding.call, arguments: finding.arguments) || afterNotes != nil ? .note : .warning
      let verdict = Self.verdict(finding.call.callee, Self.reasons(finding.safety))
      let text =
        heapOnly(finding.call)
        ? "\(verdict); \(Self.heapNote)"
        : assertion
          ? "\(verdict); \(Self.assertionNote)"
          : safeInThisProcess(finding.call, arguments: finding.arguments).map { "\(verdict); \($0)" }
            ?? message(for: finding, knowledge: input.knowledge)
      report(
        Diagnostic(
          ruleID: ruleID, severity: severity, location: finding.call.location, message: text,
          notes: (afterNotes ?? []) + chainNotes + contextNotes, context: context))
    }
  }

  static let heapNote =
    "glibc's fork() takes malloc's locks before it forks and releases them in the child, so the heap is consistent here ('--profile glibc' accepts it)"

  static let cLocaleNote =
    "unsafe only by the letter here: no path from this program's main leaves the C locale (setlocale, uselocale or a bound message catalogue)"

  static let assertionNote =
    "it runs only when an assertion has already failed, as the program aborts: unsafe by the letter, in a program that is already broken"

  static func reasons(_ safety: Safety) -> [String] {
    if case .unsafe(let reasons) = safety { return reasons }
    return []
  }

  /// `'on_term'` from `'on_term' registered here as signal handler`, else the context's note.
  static func contextName(_ note: DiagnosticNote) -> String {
    if note.message.hasPrefix("'"), let end = note.message.dropFirst().firstIndex(of: "'") {
      return String(note.message[...end])
    }
    return "the " + note.message.replacingOccurrences(of: " starts here", with: "")
  }

  func message(for finding: UnsafeCallSearch.Finding, knowledge: Knowledge) -> String {
    let name = finding.call.callee
    let fix = knowledge.suggestion(for: name) ?? defaultFix
    switch finding.safety {
    case .unsafe(let reasons):
      return "\(Self.verdict(name, reasons)); \(consequence); \(fix)"
    case .lock(let role):
      let reason = role == .acquire || role == .tryAcquire ? "takes a lock" : "operates on a lock"
      return "\(Self.verdict(name, [reason])); \(consequence); \(fix)"
    case .unknown where Self.isSwiftCall(finding.call):
      return
        "'\(name)' is Swift code forkguard cannot see; Swift calls allocate and take the runtime's locks, so it is not async-signal-safe; \(consequence); \(fix)"
    case .unknown where finding.call.symbol == nil:
      return
        "call through a function pointer cannot be verified as async-signal-safe; \(consequence) if the target is not"
    case .unknown, .safe:
      return
        "'\(name)' cannot be verified as async-signal-safe: it has no definition in the analysed files and no entry in the safety data; list it under 'safe-functions' or 'unsafe-functions' in .forkguard.yml"
    }
  }

  /// A call written in Swift that is certainly Swift code: a method on a value, a type's
  /// method or initialiser. A bare name might be a C function (from a module nobody
  /// analysed): that stays unverifiable, reported only on request, as in C.
  static func isSwiftCall(_ call: CallSite) -> Bool {
    guard let symbol = call.symbol, SymbolSpelling.isSwift(symbol) else { return false }
    return SymbolSpelling.isSwiftMemberCall(symbol) || call.callee.contains(".")
      || call.callee.first?.isUppercase == true
  }

  /// `'malloc' is not async-signal-safe (it takes a lock)`; reasons that are already a
  /// predicate ("is not on the POSIX.1-2024 list …") stand alone.
  static func verdict(_ name: String, _ reasons: [String]) -> String {
    // A construct the Swift front end names `<…>` has a reason that is a whole sentence.
    if name.hasPrefix("<"), let reason = reasons.first {
      return "\(reason), which is not async-signal-safe"
    }
    if let predicate = reasons.first(where: { $0.hasPrefix("is ") }), reasons.count == 1 {
      return "'\(name)' \(predicate)"
    }
    let phrases = reasons.filter { !$0.hasPrefix("is ") }
    let joined: String
    switch phrases.count {
    case 0: joined = ""
    case 1: joined = phrases[0]
    default: joined = phrases.dropLast().joined(separator: ", ") + " and " + phrases.last!
    }
    return joined.isEmpty ? "'\(name)' is not async-signal-safe" : "'\(name)' is not async-signal-safe (it \(joined))"
  }
}
