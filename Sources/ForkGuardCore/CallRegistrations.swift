/// Handler registrations made by calls, recognised once for every front end from the calls
/// they lower: `signal(SIGTERM, on_term)` and the other signal registration functions,
/// `pthread_atfork(prepare, parent, child)`, thread starts (`pthread_create`, `g_thread_new`,
/// Swift's `Thread { … }`), and `clone` (`CloneRecognition`). The functions and which
/// argument is the handler are data (rules/data/process.json, and `signal-registrations`
/// in `.forkguard.yml`). A front end only has to lower the function values a call passes,
/// in `CallSite.functionArguments` (a Swift trailing closure at index -1 as well as at its
/// position). `sigaction`'s handler fields are stores, not calls: front ends lower those as
/// registrations themselves.
public enum CallRegistrations {
  public static func registrations(in file: FileFacts, knowledge: Knowledge) -> [HandlerRegistration] {
    var registrations: [HandlerRegistration] = []
    for function in file.functions {
      for call in function.calls where call.symbol != nil && !call.functionArguments.isEmpty {
        let signal = signalArgument(of: call.callee, knowledge: knowledge).flatMap { call.argumentValues[$0] }
        for (kind, argument) in handlerArguments(of: call.callee, knowledge: knowledge) {
          for handler in call.functionArguments[argument] ?? [] {
            var registration = HandlerRegistration(
              kind: kind, handler: handler, location: call.location, via: call.callee,
              registeringFunction: function.name, registeringSymbol: function.symbol)
            if kind == .signalHandler { registration.signal = signal }
            registrations.append(registration)
          }
        }
      }
    }
    return registrations + CloneRecognition.registrations(in: file, knowledge: knowledge)
  }

  /// Which arguments of a call to `callee` run elsewhere, and as what: the handler of a
  /// signal registration, atfork's three handlers, a thread's entry (-1: the trailing
  /// closure). A front end asks this to lower those arguments as functions of their own
  /// rather than as code that runs during the call.
  public static func handlerArguments(of callee: String, knowledge: Knowledge) -> [(HandlerRegistration.Kind, Int)] {
    let process = knowledge.process
    let name = knowledge.canonicalName(callee)
    var result: [(HandlerRegistration.Kind, Int)] = []
    if let entry = process.signalRegistrations.first(where: { $0.function == name || $0.function == callee }),
      let argument = entry.handlerArgument
    {
      result.append((.signalHandler, argument))
    }
    if let entry = process.atforkRegistrations.first(where: { $0.function == name || $0.function == callee }) {
      for (kind, argument) in [
        (HandlerRegistration.Kind.atforkPrepare, entry.prepareArgument), (.atforkParent, entry.parentArgument),
        (.atforkChild, entry.childArgument),
      ] {
        if let argument { result.append((kind, argument)) }
      }
    }
    if let entry = process.threadStarts.first(where: { start in
      start.language == "swift" ? matchesSwift(callee, start.function) : start.function == name
    }) {
      result.append((.threadStart, entry.entryArgument))
    }
    return result
  }

  /// Which argument of a signal registration is the signal number, where the data says.
  static func signalArgument(of callee: String, knowledge: Knowledge) -> Int? {
    let name = knowledge.canonicalName(callee)
    return knowledge.process.signalRegistrations.first { $0.function == name || $0.function == callee }?.signalArgument
  }

  /// `Thread.init` matches `Thread(…)`; `DispatchQueue.async` matches any queue's `async`.
  static func matchesSwift(_ callee: String, _ pattern: String) -> Bool {
    if pattern.hasSuffix(".init") { return callee == String(pattern.dropLast(5)) }
    if callee == pattern { return true }
    let parts = pattern.split(separator: ".")
    return parts.count == 2 && callee.hasPrefix(String(parts[0])) && callee.hasSuffix("." + parts[1])
  }
}
