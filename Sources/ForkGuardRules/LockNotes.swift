import ForkGuardCore

/// The note lines the lock rules share: a chain of calls, then the lock call itself.
enum LockNotes {
  /// `'helper' called here from 'spawn'` for each link, outermost last (as clang orders
  /// notes from the finding outwards), then the event itself.
  static func event(_ event: LockEvent, _ what: String) -> [DiagnosticNote] {
    [DiagnosticNote(location: event.call.location, message: what)] + chain(event.chain)
  }

  /// The lock as written at the lock call itself.
  static func text(of event: LockEvent, _ knowledge: Knowledge, or fallback: LockReference) -> String {
    let written = knowledge.lockFunction(event.call.callee).flatMap { event.call.lockArguments[$0.lockArgument] }
    return "'\((written ?? fallback).text)'"
  }

  static func chain(_ links: [UnsafeCallSearch.Link]) -> [DiagnosticNote] {
    links.reversed().map {
      DiagnosticNote(location: $0.call.location, message: "'\($0.call.callee)' called here from '\($0.caller)'")
    }
  }

}
