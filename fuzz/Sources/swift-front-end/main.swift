import ForkGuardCore
import ForkGuardSwift
import FuzzSupport

nonisolated(unsafe) let frontEnd = SwiftFrontEnd(knowledge: FuzzSupport.knowledge)

/// Mutated Swift: swift-syntax parses it, the front end lowers it, every rule runs.
func fuzzSwiftFrontEnd(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let text = FuzzSupport.text(data, size)
  FuzzSupport.onDeepStack {
    guard let facts = try? frontEnd.facts(for: "/fuzz/input.swift", text: text) else { return }
    FuzzSupport.analyse(facts)
  }
  return 0
}

FuzzSupport.main(fuzzSwiftFrontEnd)
