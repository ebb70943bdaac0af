import ForkGuardCore
import Foundation

/// Reports from the preload library as diagnostics in the same form as `check`'s:
/// symbolized, one per rule, lock and place however many processes reported it.
public struct RuntimeDiagnostics {
  let symbolizer: Symbolizer

  public init(symbolizer: Symbolizer) {
    self.symbolizer = symbolizer
  }

  public func diagnostics(for reports: [RuntimeReport]) -> [Diagnostic] {
    var merger = RuntimeDiagnosticMerger()
    for report in reports { _ = merger.add(report, diagnostics: self) }
    return merger.merged()
  }

  func diagnostic(for report: RuntimeReport) -> Diagnostic? {
    switch report.rule {
    case "runtime-child-deadlock": return childDeadlock(report)
    case "runtime-lock-held-at-fork": return lockHeldAtFork(report)
    case "runtime-child-unsafe-call": return childUnsafeCall(report)
    case NotInstrumented.rule: return notInstrumented(report)
    default: return nil
    }
  }

  // MARK: Rules

  private func childDeadlock(_ report: RuntimeReport) -> Diagnostic? {
    let operation = report.fields["operation"] ?? "lock"
    let lock = lockName(report)
    let owner = report.number("owner_tid")
    let kind = report.fields["kind"] ?? "mutex"
    let forker = owner != nil && owner == report.number("forker_tid")
    let message: String
    if operation == "pthread_mutex_unlock" || operation == "mtx_unlock" {
      message =
        "'\(operation)' of \(lock) in the fork child fails with EPERM: \(threadDescription(report)) locked it before fork() and the child runs with a new thread id; re-initialise it with 'pthread_mutex_init' in the child instead"
    } else if kind == "semaphore" {
      let taker =
        owner == nil ? "" : forker ? "; the forking thread took it last" : "; \(threadDescription(report)) took it last"
      let outcome = report.fields["blocking"] == "1" ? "blocks forever" : "waits until its deadline"
      message =
        "'\(operation)' of \(lock) in the fork child \(outcome): the semaphore was empty at fork() and nothing in the child but a signal handler can post it\(taker); take it in a pthread_atfork prepare handler (or os.register_at_fork in Python), or keep the child off it"
    } else if operation.hasPrefix("pthread_cond_"), kind == "mutex" {
      let holder =
        forker
        ? "the forking thread locked it before fork() and the child runs with a new thread id"
        : "\(threadDescription(report)) held it at fork(), not the caller, and does not exist in the child"
      message =
        "'\(operation)' with \(lock) in the fork child fails with EPERM at once: the wait first releases the mutex, but \(holder); a loop around the wait spins forever; re-initialise the mutex with 'pthread_mutex_init' in the child and lock it there before waiting"
    } else if kind == "condvar", report.fields["reason"] == "condition-lock" {
      let wait = operation.contains("wait")
      message =
        "'\(operation)' on \(lock) in the fork child blocks forever: a thread that does not exist in the child held the condition variable's internal lock at fork() (it was signalling it, or timing out of a wait)\(wait ? "; no signal can reach the wait, and a timed wait takes that lock when its deadline passes" : ""); re-initialise it with 'pthread_cond_init' in the child, or keep the child off it"
    } else if kind == "condvar", report.fields["reason"] == "lost-waiters" {
      let waiters = report.number("waiters") ?? 0
      let threads = waiters == 1 ? "a thread of the parent was" : "\(waiters) threads of the parent were"
      message =
        operation == "pthread_cond_destroy"
        ? "'\(operation)' of \(lock) in the fork child blocks forever: \(threads) waiting on it at fork() and do\(waiters == 1 ? "es" : "") not exist in the child, and it waits for every waiter to wake; re-initialise it with 'pthread_cond_init' in the child instead of destroying it"
        : "'\(operation)' on \(lock) in the fork child blocks forever: \(threads) blocked waiting on it at fork() and do\(waiters == 1 ? "es" : "") not exist in the child; glibc closes their group of waiters and waits for them to leave it; re-initialise it with 'pthread_cond_init' in the child, or keep the child off it"
    } else if kind == "condvar" {
      let outcome = report.fields["blocking"] == "1" ? "waits forever" : "waits until its deadline"
      message =
        "'\(operation)' on \(lock) in the fork child \(outcome): the child has no other thread, so nothing can signal it (a signal handler may not: pthread_cond_signal is not async-signal-safe); wait for the child with a pipe or waitpid instead, or start the thread that signals it in the child"
    } else if kind == "spinlock" {
      let holder =
        owner == nil
        ? "it is held"
        : forker ? "the forking thread held it at fork()" : "\(threadDescription(report)) held it at fork()"
      message =
        "'\(operation)' of \(lock) in the fork child spins forever: \(holder), and the caller is the child's only thread, so nothing can release it; release it before fork() or keep the child off it"
    } else if owner == nil, report.number("readers") == nil {
      message =
        "'\(operation)' of \(lock) in the fork child blocks forever: at fork() a thread was inside lock or unlock (the lock word is taken, no owner recorded yet) and it does not exist in the child; take it in a pthread_atfork prepare handler, or keep the child off it"
    } else if owner == nil, let readers = report.number("readers") {
      message =
        "'\(operation)' of \(lock) in the fork child blocks forever: it is read-locked (\(readers) reader\(readers == 1 ? "" : "s")) by threads that do not exist in the child; release it before fork() or take it in a pthread_atfork prepare handler"
    } else if forker {
      message =
        "'\(operation)' of \(lock) in the fork child blocks forever: the forking thread locked it before fork() and the child, with a new thread id, can never own it; unlock it before fork() or re-initialise it in the child"
    } else {
      message =
        "'\(operation)' of \(lock) in the fork child blocks forever: \(threadDescription(report)) held it at fork() and does not exist in the child; take it in a pthread_atfork prepare handler, or keep the child off it"
    }
    var notes = ownerNotes(report, lock: lock, taken: kind == "semaphore" ? "taken" : "locked")
    switch report.fields["action"] {
    case "abort":
      notes.insert(note(at: report, "child", "forkguard aborted the child here instead of letting it hang"), at: 0)
    case "edeadlk": notes.insert(note(at: report, "child", "forkguard made the call return EDEADLK"), at: 0)
    default: break
    }
    if let python = pythonDiagnostic(report, message: message, notes: notes) { return python }
    return make(
      report, rule: "runtime-child-deadlock", severity: .error, primary: "child", message: message, notes: notes)
  }

  /// In CPython the place is the Python line that blocked (the innermost frame in the
  /// program's own files, the standard library's frames above it are named in the message),
  /// and the fork is the program's `os.fork()` line. The interpreter's C frames, which have
  /// no lines, are left out.
  private func pythonDiagnostic(_ report: RuntimeReport, message: String, notes: [DiagnosticNote]) -> Diagnostic? {
    guard let python = report.sources["python"], !python.isEmpty else { return nil }
    let first = python.firstIndex { !Self.isPythonLibrary($0) } ?? 0
    let place = python[first]
    var text = message
    if first > 0 {
      let inner = python[0]
      text += " (in Python, inside '\(inner.function)' at \(inner.file):\(inner.line))"
    } else {
      text += " (in Python)"
    }
    var pythonNotes: [DiagnosticNote] = []
    switch report.fields["action"] {
    case "abort":
      pythonNotes.append(
        DiagnosticNote(
          location: Self.location(place), message: "forkguard aborted the child here instead of letting it hang"))
    case "edeadlk":
      pythonNotes.append(
        DiagnosticNote(location: Self.location(place), message: "forkguard made the call return EDEADLK"))
    default: break
    }
    for (outer, inner) in zip(python[(first + 1)...], python[first...]).prefix(8) where !Self.isPythonLibrary(outer) {
      pythonNotes.append(
        DiagnosticNote(
          location: Self.location(outer), message: "'\(inner.function)' called here from '\(outer.function)'"))
    }
    // Owner frames with a line (a C extension built with -g) still help; the rest are the interpreter's.
    let childNote = "forkguard aborted the child here instead of letting it hang"
    pythonNotes += notes.filter {
      $0.location.line > 0 && !$0.message.hasSuffix("() called here") && $0.message != childNote
    }
    // Track mode: where the thread that took the lock was when the fork copied it.
    if let holder = report.sources["python_owner"], let at = holder.firstIndex(where: { !Self.isPythonLibrary($0) }) {
      var message = "\(threadDescription(report)) took it last and was here at fork()"
      if at > 0 { message += ", inside '\(holder[0].function)' at \(holder[0].file):\(holder[0].line)" }
      pythonNotes.append(DiagnosticNote(location: Self.location(holder[at]), message: message))
    }
    if let fork = report.sources["python_fork"], let forkPlace = fork.first(where: { !Self.isPythonLibrary($0) }) {
      pythonNotes.append(DiagnosticNote(location: Self.location(forkPlace), message: "os.fork() called here"))
    }
    return Diagnostic(
      ruleID: "runtime-child-deadlock", severity: .error, location: Self.location(place), message: text,
      notes: pythonNotes)
  }

  /// The interpreter's own code: the standard library and installed packages, frozen modules.
  static func isPythonLibrary(_ frame: SourceFrame) -> Bool {
    frame.file.hasPrefix("<") || frame.file.contains("/lib/python3") || frame.file.contains("/site-packages/")
  }

  private static func location(_ frame: SourceFrame) -> SourceLocation {
    SourceLocation(file: frame.file, line: frame.line, column: 1)
  }

  /// The preload library's table sizes (FG_MAX_HELD, FG_MAX_THREADS in fg_internal.h).
  static let maxHeldPerThread = 64
  static let maxTrackedThreads = 1024

  /// How many held locks a diagnostic shows in full; the rest are counted by thread.
  static let heldLocksShown = 8

  /// One diagnostic per fork: the first lock held is the finding, the next few are notes at
  /// the places they were taken, the rest are counted per thread.
  private func lockHeldAtFork(_ report: RuntimeReport) -> Diagnostic? {
    let locks = report.held.map { lockReport(report, $0) }
    guard let first = locks.first else {
      // Only drops to say: nothing recorded, but locks may have been held.
      let counts = untrackedNote(report)
      guard !counts.isEmpty else { return nil }
      return Diagnostic(
        ruleID: "runtime-lock-held-at-fork", severity: .warning,
        location: userPlace(report, "fork")?.location ?? unknownLocation(report),
        message: "forkguard could not record every lock other threads held at this fork: " + counts)
    }
    let threads = Set(report.held.map(\.tid)).count
    var message = heldDescription(first) + "; the child's copy stays " + stuckState(first)
    if locks.count > 1 {
      message +=
        " (one of \(locks.count) locks that \(threads == 1 ? "thread" : "\(threads) threads") held at the fork)"
    }
    var notes: [DiagnosticNote] = []
    var started: Set<Int> = []
    for (index, lock) in locks.prefix(Self.heldLocksShown).enumerated() {
      if index > 0 {
        notes += frameNote(
          lock, "owner", "\(lockName(lock))\(kindSuffix(lock)) \(heldVerb(lock)) here by \(threadName(lock))")
      }
      if let tid = lock.number("owner_tid"), started.insert(tid).inserted {
        notes += frameNote(lock, "owner_created", "\(threadName(lock)) started here")
      }
    }
    let rest = report.held.dropFirst(Self.heldLocksShown)
    if !rest.isEmpty {
      var byThread: [Int: Int] = [:]
      for lock in rest { byThread[lock.tid, default: 0] += 1 }
      let counts = byThread.sorted { $0.key < $1.key }.map { "\($0.value) by thread \($0.key)" }
      notes.append(
        note(
          at: report, "fork",
          "and \(rest.count) more lock\(rest.count == 1 ? "" : "s") held at the fork, not shown: \(counts.joined(separator: ", "))"
        ))
    }
    let untracked = untrackedNote(report)
    if !untracked.isEmpty {
      notes.append(note(at: report, "fork", "forkguard could not record every lock: " + untracked))
    }
    notes += frameNote(report, "fork", "\(report.fields["fork"] ?? "fork")() called here")
    return make(
      first, rule: "runtime-lock-held-at-fork", severity: .error, primary: "owner", message: message, notes: notes)
  }

  /// The fork's report seen as a report of one held lock, so the lock and thread helpers serve.
  private func lockReport(_ report: RuntimeReport, _ held: HeldLock) -> RuntimeReport {
    var lock = report
    lock.held = []
    lock.fields["lock"] = "0x" + String(held.lock, radix: 16)
    lock.fields["kind"] = held.kind
    lock.fields["depth"] = String(held.depth)
    lock.fields["owner_tid"] = String(held.tid)
    lock.frames["owner"] = held.frames
    if let thread = report.threads[held.tid] {
      if !thread.name.isEmpty { lock.fields["owner_name"] = thread.name }
      if thread.start != 0 { lock.fields["owner_start"] = "0x" + String(thread.start, radix: 16) }
      if thread.created != 0 { lock.frames["owner_created"] = [thread.created] }
    }
    return lock
  }

  private func kindSuffix(_ lock: RuntimeReport) -> String {
    lock.fields["kind"].map { $0 == "mutex" ? "" : " (\($0))" } ?? ""
  }

  private func isReadHeld(_ lock: RuntimeReport) -> Bool { lock.fields["kind"] == "rwlock-read" }

  private func heldVerb(_ lock: RuntimeReport) -> String { isReadHeld(lock) ? "read-locked" : "locked" }

  /// `'table_lock' (rwlock-read) was held by thread 12 'worker' for reading when the process forked`
  private func heldDescription(_ lock: RuntimeReport) -> String {
    "\(lockName(lock))\(kindSuffix(lock)) was held by \(threadDescription(lock))\(isReadHeld(lock) ? " for reading" : "") when the process forked"
  }

  /// A read-held rwlock still lets readers in; only a writer blocks on it.
  private func stuckState(_ lock: RuntimeReport) -> String {
    isReadHeld(lock)
      ? "read-locked forever: readers there still get in, and a writer blocks"
      : "locked forever and any use of it there blocks"
  }

  private func untrackedNote(_ report: RuntimeReport) -> String {
    var parts: [String] = []
    if let dropped = report.number("dropped_locks"), dropped > 0 {
      parts.append(
        "\(dropped) lock\(dropped == 1 ? " was" : "s were") taken while a thread already held \(Self.maxHeldPerThread)")
    }
    if let untracked = report.number("untracked_threads"), untracked > 0 {
      parts.append(
        "\(untracked) thread\(untracked == 1 ? "" : "s") beyond the first \(Self.maxTrackedThreads) went untracked")
    }
    return parts.joined(separator: "; ")
  }

  private func childUnsafeCall(_ report: RuntimeReport) -> Diagnostic? {
    let function = report.fields["function"] ?? "?"
    let fork = report.fields["fork"] ?? "fork"
    let repaired = report.fields["repaired_by_glibc"] == "1"
    let message =
      repaired
      ? "'\(function)' called in the child of a multithreaded fork() before exec; glibc repairs its own allocator and stdio locks in the child of fork(), but another allocator, an interposed stdio or _Fork() gets no repair; call it before the fork or after exec"
      : "'\(function)' called in the child of a multithreaded \(fork)() before exec; its lock may be held by a thread that does not exist in the child and nothing repairs it there; call it before the fork or after exec"
    let notes = frameNote(report, "fork", "\(fork)() called here")
    return make(
      report, rule: "runtime-child-unsafe-call", severity: repaired ? .warning : .error, primary: "child",
      message: message, notes: notes)
  }

  // MARK: Pieces

  func make(
    _ report: RuntimeReport, rule: String, severity: Severity, primary: String, message: String,
    notes: [DiagnosticNote]
  ) -> Diagnostic {
    let place = userPlace(report, primary) ?? userPlace(report, "fork")
    var notes = notes
    if let place, let whereabouts = place.withoutLine {
      // Built without -g: the binary is the place; the function and offset say where in it.
      notes.insert(
        DiagnosticNote(
          location: place.location,
          message: "\(whereabouts); the binary has no line table, build it with -g for file and line"),
        at: 0)
    }
    return Diagnostic(
      ruleID: rule, severity: severity, location: place?.location ?? unknownLocation(report), message: message,
      notes: notes)
  }

  private func ownerNotes(_ report: RuntimeReport, lock: String, taken: String = "locked") -> [DiagnosticNote] {
    var notes: [DiagnosticNote] = []
    notes += frameNote(report, "owner", "\(lock) \(taken) here by \(threadName(report))")
    notes += frameNote(report, "owner_created", "\(threadName(report)) started here")
    notes += frameNote(report, "fork", "\(report.fields["fork"] ?? "fork")() called here")
    return notes
  }

  func note(at report: RuntimeReport, _ who: String, _ message: String) -> DiagnosticNote {
    guard let place = userPlace(report, who) ?? userPlace(report, "fork") else {
      return DiagnosticNote(location: unknownLocation(report), message: message)
    }
    return DiagnosticNote(location: place.location, message: message + place.functionSuffix)
  }

  /// A note at a frame, when that frame is the user's code (see `userPlace`).
  private func frameNote(_ report: RuntimeReport, _ who: String, _ message: String) -> [DiagnosticNote] {
    guard let place = userPlace(report, who) else { return [] }
    return [DiagnosticNote(location: place.location, message: message + place.functionSuffix)]
  }

  struct Place {
    var location: SourceLocation
    var function: String?
    var offset: UInt64

    /// Without a line, the function and offset are the only pointers into the binary.
    var withoutLine: String? {
      guard location.line == 0 else { return nil }
      let offset = "offset 0x\(String(self.offset, radix: 16))"
      return function.map { "in '\($0)' at \(offset)" } ?? "at \(offset)"
    }

    var functionSuffix: String { withoutLine.map { " (\($0))" } ?? "" }
  }

  /// Where a reported frame is, when the user can act there: a source line, or, in the
  /// program itself built without -g, the program with the function and offset. A frame
  /// inside the C library or the Swift runtime without lines is no place to send anyone.
  func userPlace(_ report: RuntimeReport, _ who: String) -> Place? {
    guard let pc = report.frames[who]?.first, let frame = symbolizer.callSite(pc, in: report.maps) else { return nil }
    if let location = frame.location {
      return Place(location: location, function: frame.function, offset: frame.offset)
    }
    guard isProgram(frame.module, report) else { return nil }
    return Place(
      location: SourceLocation(file: frame.module, line: 0, column: 0), function: frame.function, offset: frame.offset)
  }

  private func isProgram(_ module: String, _ report: RuntimeReport) -> Bool {
    module == report.maps.first?.path
  }

  private func unknownLocation(_ report: RuntimeReport) -> SourceLocation {
    SourceLocation(file: report.maps.first?.path ?? "<unknown>", line: 0, column: 0)
  }

  /// `'log_lock'`, `'pool'+8`, or `the mutex at 0x7f…` when no symbol covers it.
  func lockName(_ report: RuntimeReport) -> String {
    let kind = (report.fields["kind"] ?? "mutex").hasPrefix("rwlock") ? "rwlock" : (report.fields["kind"] ?? "mutex")
    guard let address = report.address("lock") else { return "the \(kind)" }
    if let symbol = symbolizer.data(address, in: report.maps) {
      return symbol.offset == 0 ? "'\(symbol.name)'" : "'\(symbol.name)'+\(symbol.offset)"
    }
    return "the \(kind) at 0x\(String(address, radix: 16))"
  }

  /// `thread 4242 'worker-3' running 'cache_worker'`: the name the thread was given (when it
  /// is not just the program's), and its start routine when that is the user's function
  /// rather than a runtime's trampoline (Foundation's Thread, mangled Swift).
  private func threadName(_ report: RuntimeReport) -> String {
    guard let tid = report.number("owner_tid") else { return "a thread" }
    var text = "thread \(tid)"
    let program = report.maps.first.map { String(($0.path as NSString).lastPathComponent.prefix(15)) }
    let start = report.address("owner_start").flatMap { symbolizer.code($0, in: report.maps) }
    let routine = start.flatMap { frame -> String? in
      guard let function = frame.function, frame.location != nil || isProgram(frame.module, report),
        !function.hasPrefix("$s"), !function.hasPrefix("_$s")
      else { return nil }
      return function
    }
    if let name = report.fields["owner_name"], name != program, name != routine {
      text += " '\(name)'"
      if let routine { text += " running '\(routine)'" }
    } else if let routine {
      text += " '\(routine)'"
    }
    return text
  }

  private func threadDescription(_ report: RuntimeReport) -> String {
    threadName(report)
  }
}

/// Diagnostics as reports arrive: one per rule, place and lock, however many processes
/// reported it. `add` gives a diagnostic the first time it is seen (what a live report
/// prints); `merged` gives them all at the end, each with the count of its processes.
public struct RuntimeDiagnosticMerger {
  private var entries: [String: (diagnostic: Diagnostic, processes: Set<Int>)] = [:]
  private var order: [String] = []

  public init() {}

  /// The report's diagnostic if no process reported it before, else nil.
  public mutating func add(_ report: RuntimeReport, diagnostics: RuntimeDiagnostics) -> Diagnostic? {
    guard let diagnostic = diagnostics.diagnostic(for: report) else { return nil }
    // One finding per rule, place and lock, whichever process or thread id it came from.
    let key = [
      diagnostic.ruleID ?? "", "\(diagnostic.location)", diagnostics.lockName(report), report.fields["function"] ?? "",
      report.fields["program"] ?? "",
    ]
    .joined(separator: "|")
    let isNew = entries[key] == nil
    if isNew {
      entries[key] = (diagnostic, [])
      order.append(key)
    }
    entries[key]!.processes.insert(report.pid)
    return isNew ? diagnostic : nil
  }

  /// How many processes reported each diagnostic that more than one did, in report order.
  public var repeated: [(diagnostic: Diagnostic, processes: Int)] {
    order.compactMap { key in
      let entry = entries[key]!
      return entry.processes.count > 1 ? (entry.diagnostic, entry.processes.count) : nil
    }
  }

  public func merged() -> [Diagnostic] {
    order.map { key -> Diagnostic in
      var (diagnostic, processes) = entries[key]!
      if processes.count > 1 {
        diagnostic.notes.append(
          DiagnosticNote(location: diagnostic.location, message: "reported by \(processes.count) processes"))
      }
      return diagnostic
    }.sorted(by: Diagnostic.reportOrder)
  }
}
