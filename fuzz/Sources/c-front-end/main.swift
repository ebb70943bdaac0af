import ForkGuardC
import ForkGuardCore
import FuzzSupport

nonisolated(unsafe) let frontEnd: CFrontEnd = {
  CFrontEnd.parseOnCallingThreads()
  return CFrontEnd(knowledge: FuzzSupport.knowledge)
}()
let path = "/fuzz/input.c"

/// Mutated C: libclang parses it (as an editor buffer), the front end lowers it, and every
/// rule runs over the facts.
func fuzzCFrontEnd(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  // An editor buffer is a C string: what follows a NUL byte is not seen.
  let text = FuzzSupport.text(data, size).replacingOccurrences(of: "\0", with: " ")
  FuzzSupport.onDeepStack {
    let arguments = CFrontEnd.defaultArguments(for: path, includeDirectories: [])
    guard let facts = try? frontEnd.facts(for: path, arguments: arguments, unsaved: [path: text]) else { return }
    FuzzSupport.analyse(facts)
  }
  return 0
}

FuzzSupport.main(fuzzCFrontEnd)
