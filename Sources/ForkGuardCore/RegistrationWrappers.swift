/// A project's own registration functions: a function that passes one of its parameters
/// to `signal`, `sigaction`'s handler field, `pthread_atfork` or a thread start is a
/// registration too, for that parameter (openssh's `ssh_signal(sig, handler)`, git's
/// `sigchain_push(sig, f)`), and so, to any depth, is a function that passes its parameter
/// on to one. A call to a wrapper registers the function value it passes.
enum RegistrationWrappers {
  struct Slot: Hashable {
    var argument: Int
    var kind: HandlerRegistration.Kind
    /// The signal the wrapper registers it for, in the wrapper's terms (`sigchain_push(sig,
    /// f)`: its parameter 0; `sigchain_push_common(f)`: SIGINT, SIGHUP… one slot each).
    var signal: ArgumentValue?
  }

  /// A wrapper's signal, read at a call to it.
  static func signal(_ signal: ArgumentValue?, at call: CallSite) -> ArgumentValue? {
    guard case .parameter(let index)? = signal else { return signal }
    return call.argumentValues[index]
  }

  static func registrations(in program: ProgramGraph) -> [HandlerRegistration] {
    var registrations: [HandlerRegistration] = []
    // Wrappers by identity, with the arguments they register.
    var slots: [SymbolID: Set<Slot>] = [:]
    var pending: [SymbolID] = []
    func addSlot(_ function: SymbolID, _ slot: Slot) {
      if slots[function, default: []].insert(slot).inserted { pending.append(function) }
    }
    for file in program.files {
      for registration in file.registrations {
        guard case .parameter(let index, _) = registration.handler else {
          registrations.append(registration)
          continue
        }
        guard let symbol = registration.registeringSymbol,
          let wrapper = program.function(symbol: symbol, near: registration.location.file)
        else { continue }
        addSlot(wrapper.symbol, Slot(argument: index, kind: registration.kind, signal: registration.signal))
      }
    }
    guard !pending.isEmpty else { return registrations }

    // The calls to each function, found once.
    var callsTo: [SymbolID: [(caller: FunctionFacts, call: CallSite)]] = [:]
    for caller in program.functions.values.sorted(by: { $0.symbol < $1.symbol }) {
      for call in caller.calls where !call.functionArguments.isEmpty {
        if let callee = program.definition(of: call) { callsTo[callee.symbol, default: []].append((caller, call)) }
      }
    }
    var seen = Set<HandlerRegistration>()
    while let wrapper = pending.popLast() {
      for (caller, call) in callsTo[wrapper] ?? [] {
        for slot in (slots[wrapper] ?? []).sorted(by: {
          ($0.argument, $0.kind.rawValue, "\($0.signal as Any)") < (
            $1.argument, $1.kind.rawValue, "\($1.signal as Any)"
          )
        }) {
          let signal = Self.signal(slot.signal, at: call)
          for reference in call.functionArguments[slot.argument] ?? [] {
            if case .parameter(let index, _) = reference {
              addSlot(caller.symbol, Slot(argument: index, kind: slot.kind, signal: signal))
              continue
            }
            var registration = HandlerRegistration(
              kind: slot.kind, handler: reference, location: call.location, via: call.callee,
              registeringFunction: caller.name, registeringSymbol: caller.symbol)
            registration.signal = signal
            if seen.insert(registration).inserted { registrations.append(registration) }
          }
        }
      }
    }
    return registrations
  }
}
