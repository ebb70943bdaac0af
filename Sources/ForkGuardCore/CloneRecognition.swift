/// `clone` calls, recognised once for every front end from the calls they lower: the entry
/// function runs as a fork child when the flags leave out `CLONE_VM`, and as a vfork child
/// when they have `CLONE_VM|CLONE_VFORK` (with `CLONE_VM` alone it is a thread sharing the
/// memory, which the fork rules do not judge). The flag values are data (`clone` in
/// rules/data/process.json).
public enum CloneRecognition {
  public static func registrations(in file: FileFacts, knowledge: Knowledge) -> [HandlerRegistration] {
    let clone = knowledge.process.clone
    let vm = clone.flags["CLONE_VM"] ?? 0
    let vfork = clone.flags["CLONE_VFORK"] ?? 0
    var registrations: [HandlerRegistration] = []
    for function in file.functions {
      for call in function.calls where call.symbol != nil {
        guard clone.functions.contains(knowledge.canonicalName(call.callee)),
          let entries = call.functionArguments[clone.entryArgument]
        else { continue }
        // Flags not known at all count as none set: a plain fork-like clone.
        let flags: Int
        switch call.argumentValues[clone.flagsArgument] {
        case .constant(let value)?, .bitsIncluding(let value)?: flags = value
        case .parameter?, .variable?, .elements?, .string?, .within?, .delimited?, nil: flags = 0
        }
        let kind: HandlerRegistration.Kind
        if flags & vm == 0 {
          kind = .cloneForkChild
        } else if flags & vfork != 0 {
          kind = .cloneVforkChild
        } else {
          continue
        }
        for entry in entries {
          registrations.append(
            HandlerRegistration(
              kind: kind, handler: entry, location: call.location, via: call.callee,
              registeringFunction: function.name, registeringSymbol: function.symbol))
        }
      }
    }
    return registrations
  }
}
