import ForkGuardDriver
import FuzzSupport

/// `forkguard:ignore` comments in any text.
func fuzzSuppressions(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  _ = SuppressionScanner.scan(file: "/fuzz/a.c", text: FuzzSupport.text(data, size))
  return 0
}

FuzzSupport.main(fuzzSuppressions)
