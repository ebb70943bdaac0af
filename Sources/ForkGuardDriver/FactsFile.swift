import ForkGuardCore
import Foundation

/// The facts of a shard: what `--write-facts` writes and `--facts` reads back, in the
/// binary facts format (versioned by its magic).
struct FactsFile {
  var facts: [FileFacts]

  func write(to path: String) throws {
    do { try FactsCoding.encode(facts).write(to: URL(fileURLWithPath: path)) } catch {
      throw CheckRun.SetupError(description: "\(path): cannot write facts: \(error.localizedDescription)")
    }
  }

  static func load(path: String) throws -> FactsFile {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CheckRun.SetupError(description: "\(path): cannot read facts")
    }
    guard let facts = try? FactsCoding.decode(data) else {
      throw CheckRun.SetupError(description: "\(path): not forkguard facts, or written by another version")
    }
    return FactsFile(facts: facts)
  }
}
