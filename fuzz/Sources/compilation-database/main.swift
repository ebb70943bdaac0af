import ForkGuardC
import FuzzSupport

/// compile_commands.json, both forms, and the flags forkguard derives from each entry.
func fuzzCompilationDatabase(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  guard
    let database = try? CompilationDatabase(data: FuzzSupport.bytes(data, size), path: "/fuzz/compile_commands.json")
  else { return 0 }
  for file in database.files { _ = database.parseArguments(for: file) }
  return 0
}

FuzzSupport.main(fuzzCompilationDatabase)
