import ForkGuardDriver
import FuzzSupport

/// `.forkguard.yml`: any text is a configuration or a Problem naming the line, never a crash.
func fuzzConfiguration(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let text = FuzzSupport.text(data, size)
  if let configuration = try? Configuration.parse(text, path: "/fuzz/project/.forkguard.yml") {
    _ = configuration.excludes("/fuzz/project/src/a.c")
    _ = configuration.program(of: "/fuzz/project/src/a.c")
    _ = configuration.refining(configuration)
  }
  return 0
}

FuzzSupport.main(fuzzConfiguration)
