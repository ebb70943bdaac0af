import ForkGuardCore
import FuzzSupport

/// The facts cache's and shards' binary format: corrupt or truncated entries are refused.
func fuzzFactsDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  if let facts = try? FactsCoding.decode(FuzzSupport.bytes(data, size)) {
    // What decodes must also be analysable: a cache hit goes straight to the rules.
    let program = ProgramGraph(files: facts, policy: FuzzSupport.knowledge.linkPolicy)
    _ = program.functions.count
  }
  return 0
}

FuzzSupport.main(fuzzFactsDecoder)
