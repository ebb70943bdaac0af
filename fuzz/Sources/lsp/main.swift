import ForkGuardDriver
import ForkGuardLanguageServer
import Foundation
import FuzzSupport

/// The folder a fuzzed session may analyse; documents elsewhere get the server's error
/// path instead of a walk of the whole disk.
let workspace = "/tmp/forkguard-fuzz-lsp"
let created: Void = { try? FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true) }()
let sink = open("/dev/null", O_WRONLY)

struct OutsideWorkspace: Error {}

/// A whole client session as bytes: Content-Length framing, JSON, and every message the
/// server handles (analysis of open buffers included).
func fuzzLanguageServer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  _ = created
  guard let data else { return 0 }
  var pipe: [Int32] = [0, 0]
  guard Foundation.pipe(&pipe) == 0 else { return 0 }
  // A pipe holds 64 KiB; the harness writes all before the server reads.
  var offset = 0
  let limit = min(size, 60_000)
  while offset < limit {
    let written = write(pipe[1], data + offset, limit - offset)
    if written <= 0 { break }
    offset += written
  }
  close(pipe[1])
  let input = pipe[0]
  FuzzSupport.onDeepStack {
    let server = LanguageServer(input: input, output: sink) { options in
      guard options.paths.allSatisfy({ $0 == workspace || $0.hasPrefix(workspace + "/") }) else {
        throw OutsideWorkspace()
      }
      var bounded = options
      bounded.usesCache = false
      bounded.jobs = 1
      return try CheckRun.run(bounded)
    }
    _ = server.serve()
  }
  close(input)
  return 0
}

FuzzSupport.main(fuzzLanguageServer)
