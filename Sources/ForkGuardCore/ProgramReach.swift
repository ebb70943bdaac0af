/// Whether a program may, at some point of its run, make a kind of call: leave the "C"
/// locale (then glibc's message look-ups translate, `Knowledge.whySafeInCLocale`), start a
/// thread (then glibc's set*id calls signal every thread, under a lock, instead of being
/// one system call), or give stderr a buffer (`Knowledge.whySafeOnUnbufferedStderr`). State
/// glibc keeps for the whole run decides those calls, so what
/// matters is whether any path from the program's `main` makes one, not what runs at a
/// given point. Judged per program: inetutils' telnet sets a locale, its inetd and syslogd
/// never do.
public struct ProgramReach: Sendable {
  /// Per `main` (by identity): whether a call from it, to any depth, may make one.
  private let entryReaches: [SymbolID: Bool]
  /// Whether any program may: asked for a private library's code, which any of them links.
  private let anyEntryReaches: Bool
  /// A function value that may make one, taken in library code: when and where it runs is
  /// not known, so every program may.
  private let reachedThroughValues: Bool
  /// The entries of the programs whose own code takes such a value (telnetd's argp parser
  /// `parse_opt`, which may open a debug file): it runs in them, at a time no walk from
  /// `main` sees.
  private let entriesReachingThroughValues: Set<SymbolID>
  private let program: ProgramGraph

  /// `makes`: whether a function makes such a call itself (the walk adds its callers).
  public init(program: ProgramGraph, makes: (FunctionFacts) -> Bool) {
    self.program = program
    let count = program.functionCount
    var callers = [[Int]](repeating: [], count: count)
    var reaches = [Bool](repeating: false, count: count)
    var pending: [Int] = []
    for index in 0..<count {
      for callee in program.calleeIndices(at: index) where callee >= 0 { callers[Int(callee)].append(index) }
      if makes(program.function(at: index)) {
        reaches[index] = true
        pending.append(index)
      }
    }
    // Up the call graph to a fixed point.
    while let index = pending.popLast() {
      for caller in callers[index] where !reaches[caller] {
        reaches[caller] = true
        pending.append(caller)
      }
    }
    var entries: [SymbolID: Bool] = [:]
    var reaching = Set<SymbolID>()
    for index in 0..<count {
      let function = program.function(at: index)
      if reaches[index] { reaching.insert(function.symbol) }
      if SymbolSpelling.isProgramEntry(function.symbol, name: function.name) {
        entries[function.symbol] = reaches[index]
      }
    }
    entryReaches = entries
    anyEntryReaches = entries.values.contains(true)
    // A function value that may make one runs at a time no walk from `main` sees (a
    // command table's entry, a callback, a handler): then the programs whose code takes the
    // value may, and every program when library code takes it.
    var throughValues = false
    var entriesThroughValues = Set<SymbolID>()
    if !reaching.isEmpty {
      var references: [(value: FunctionReference, file: String)] = []
      for file in program.files {
        references += file.registrations.map { ($0.handler, $0.location.file) }
        references += file.pointerStores.map { ($0.value, file.path) }
      }
      for index in 0..<count {
        let function = program.function(at: index)
        for call in function.calls where !call.functionArguments.isEmpty {
          for values in call.functionArguments.values { references += values.map { ($0, function.location.file) } }
        }
      }
      // Where a function's address is taken: a variable or a parameter passed on copies a
      // value taken elsewhere (gnulib's argp stores each program's `parse_opt` it is given).
      var filesTaking = Set<String>()
      for reference in references {
        guard case .function = reference.value,
          program.functions(for: reference.value).contains(where: { reaching.contains($0.symbol) })
        else { continue }
        filesTaking.insert(reference.file)
      }
      for file in filesTaking {
        let entries = program.programEntries(of: file)
        if entries.isEmpty { throughValues = true } else { entriesThroughValues.formUnion(entries) }
      }
    }
    reachedThroughValues = throughValues
    entriesReachingThroughValues = entriesThroughValues
  }

  /// Whether code running in the process of the program `file` is part of may run after
  /// such a call. Library code no `main` covers runs in a host that may have made one; a
  /// private library's in whichever of the tree's programs links it.
  public func mayHaveReached(inProcessOf file: String) -> Bool {
    guard !reachedThroughValues else { return true }
    let entries = program.programEntries(of: file)
    guard !entries.isEmpty else {
      return entryReaches.isEmpty || !program.isPrivateLibraryFile(file) || anyEntryReaches
        || !entriesReachingThroughValues.isEmpty
    }
    return entries.contains { entryReaches[$0] ?? true || entriesReachingThroughValues.contains($0) }
  }
}
