/// Whether a program may leave the "C" locale. A process starts in it and stays there until
/// it calls `setlocale` (or binds a message catalogue): until then glibc's message look-ups
/// (`strerror`, `strsignal`, `gai_strerror`) return their text untranslated, taking only
/// read locks no code of the process ever takes for writing, and allocate nothing
/// (`Knowledge.isSafeInCLocale`). Judged per program: inetutils' telnet sets a locale,
/// its inetd and syslogd never do.
public struct LocaleSetting: Sendable {
  /// Per `main` (by symbol): whether a call from it, to any depth, may set a locale.
  private let entrySetsLocale: [SymbolID: Bool]
  /// A function whose address is taken may set a locale: when it runs is not known.
  private let settingThroughValues: Bool
  private let program: ProgramGraph

  /// `setters`: the library functions that leave the C locale or bind a catalogue.
  public init(program: ProgramGraph, setters: Set<String>) {
    self.program = program
    let count = program.functionCount
    // Functions that may set a locale: those calling a setter, then their callers, to a
    // fixed point (a walk up the call graph).
    var callers = [[Int]](repeating: [], count: count)
    var sets = [Bool](repeating: false, count: count)
    var pending: [Int] = []
    for index in 0..<count {
      let function = program.function(at: index)
      let callees = program.calleeIndices(at: index)
      for position in function.calls.indices {
        let callee = Int(callees[position])
        if callee >= 0 { callers[callee].append(index) }
        // By name, wherever it resolves: bash's lib/intl defines its own `textdomain`.
        if !sets[index], function.calls[position].symbol != nil, setters.contains(function.calls[position].callee) {
          sets[index] = true
          pending.append(index)
        }
      }
      // A setter the body spells but the preprocessor took away (a run without config.h)
      // is still called once the program is built.
      if !sets[index], !function.spelledLocaleSetters.isEmpty {
        sets[index] = true
        pending.append(index)
      }
    }
    while let index = pending.popLast() {
      for caller in callers[index] where !sets[caller] {
        sets[caller] = true
        pending.append(caller)
      }
    }
    var entries: [SymbolID: Bool] = [:]
    var setting = Set<SymbolID>()
    for index in 0..<count where sets[index] { setting.insert(program.function(at: index).symbol) }
    for index in 0..<count {
      let function = program.function(at: index)
      if SymbolSpelling.isProgramEntry(function.symbol, name: function.name) { entries[function.symbol] = sets[index] }
    }
    entrySetsLocale = entries
    // A function value that may set a locale runs at a time no walk from `main` sees (a
    // command table's entry, a callback): then every program may.
    var references: [FunctionReference] = []
    for file in program.files {
      references += file.registrations.map(\.handler)
      references += file.pointerStores.map(\.value)
    }
    for index in 0..<count {
      for call in program.function(at: index).calls where !call.functionArguments.isEmpty {
        for values in call.functionArguments.values { references += values }
      }
    }
    settingThroughValues =
      !setting.isEmpty
      && references.contains { reference in program.functions(for: reference).contains { setting.contains($0.symbol) } }
  }

  /// Whether code running in the process of a program `file` is part of may run after the
  /// program left the C locale. Library code no `main` covers runs in a host that may have.
  public func mayHaveLeftCLocale(inProcessOf file: String) -> Bool {
    guard !settingThroughValues else { return true }
    let entries = program.programEntries(of: file)
    guard !entries.isEmpty else { return true }
    return entries.contains { entrySetsLocale[$0] ?? true }
  }
}
