import ForkGuardCore
import Foundation

/// Phase 4 of a check, building the program graph: every file's facts linked by symbol
/// across files and languages, into the programs the tree holds (named by hand in the
/// configuration, else read from the build's link information, else inferred).
enum ProgramBuilding {
  static func build(
    _ facts: [FileFacts], roots: [String], configuration: LoadedConfiguration, options: CheckRun.Options
  ) throws -> ProgramGraph {
    var policy = configuration.parsingKnowledge.linkPolicy
    // Programs named by hand, in the configuration that applies where forkguard runs; else
    // the build's own link information, where a build folder has it.
    let root = configuration.root
    if !root.programs.isEmpty {
      policy.programOf = { root.program(of: $0) }
    } else if let programs = try linkedPrograms(options) {
      policy.programOf = { programs[$0] }
    }
    let privateLibraryFiles = AutomakeLibraries.privateLibraryFiles(under: roots)
    policy.isPrivateLibraryFile = { privateLibraryFiles.contains($0) }
    return ProgramGraph(files: facts, policy: policy)
  }

  /// Programs from meson's or CMake's build information in `-p`'s folder or `build/`.
  private static func linkedPrograms(_ options: CheckRun.Options) throws -> [String: String]? {
    let base = URL(fileURLWithPath: options.base, isDirectory: true)
    var folders = [base.appendingPathComponent("build").path]
    if let directory = options.compilationDatabaseDirectory {
      let path = URL(fileURLWithPath: directory, relativeTo: base).standardizedFileURL.path
      folders.insert(path.hasSuffix(".json") ? (path as NSString).deletingLastPathComponent : path, at: 0)
    }
    do { return try BuildTargets.programs(in: folders) } catch { throw CheckRun.SetupError(description: "\(error)") }
  }
}
