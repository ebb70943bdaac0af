import Foundation

/// Where `libforkguard-preload.so` is: `$FORKGUARD_PRELOAD_LIBRARY`, or next to the
/// forkguard binary (`lib/`, `../lib/`, or `../preload/` as scripts/build-preload.sh puts it).
public enum PreloadLibrary {
  public static let fileName = "libforkguard-preload.so"

  public struct NotFound: Error, CustomStringConvertible {
    public var searched: [String]
    public var description: String {
      "cannot find \(PreloadLibrary.fileName) (looked in \(searched.joined(separator: ", "))); build it with scripts/build-preload.sh or set FORKGUARD_PRELOAD_LIBRARY"
    }
  }

  /// The running binary's real path: argv[0] is only a name when forkguard was found
  /// through PATH (an installed package's /usr/bin/forkguard), and may be a symlink.
  public static var runningExecutable: String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
  }

  public static func locate(executable: String = runningExecutable) throws -> String {
    if let given = ProcessInfo.processInfo.environment["FORKGUARD_PRELOAD_LIBRARY"], !given.isEmpty {
      guard FileManager.default.fileExists(atPath: given) else { throw NotFound(searched: [given]) }
      return given
    }
    let binary = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
    let candidates = [
      binary.appendingPathComponent(fileName),
      binary.appendingPathComponent("lib").appendingPathComponent(fileName),
      binary.deletingLastPathComponent().appendingPathComponent("lib").appendingPathComponent(fileName),
      binary.deletingLastPathComponent().appendingPathComponent("preload").appendingPathComponent(fileName),
      binary.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("preload")
        .appendingPathComponent(fileName),
    ].map(\.standardizedFileURL.path)
    if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
    throw NotFound(searched: candidates)
  }
}
