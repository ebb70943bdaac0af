import ForkGuardCore
import Foundation

/// Phase 4 of a check, building the program graph: every file's facts linked by symbol
/// across files and languages, into the programs the tree holds (named by hand in the
/// configuration, else read from the build's link information, else inferred).
enum ProgramBuilding {
  static func build(
    _ facts: [FileFacts], link: LinkInformation, configuration: LoadedConfiguration
  ) -> ProgramGraph {
    var policy = configuration.parsingKnowledge.linkPolicy
    // Programs named by hand, in the configuration that applies where forkguard runs; else
    // the build's own link information, where a build folder has it.
    let root = configuration.root
    if !root.programs.isEmpty {
      policy.programOf = { root.program(of: $0) }
    } else if let programs = link.programs {
      policy.programOf = { programs[$0] }
    }
    let privateLibraryFiles = link.privateLibraryFiles
    policy.isPrivateLibraryFile = { privateLibraryFiles.contains($0) }
    return ProgramGraph(files: facts, policy: policy)
  }

  /// Programs from meson's or CMake's build information in `-p`'s folder or `build/`.
  fileprivate static func linkedPrograms(_ options: CheckRun.Options) throws -> [String: String]? {
    let base = URL(fileURLWithPath: options.base, isDirectory: true)
    var folders = [base.appendingPathComponent("build").path]
    if let directory = options.compilationDatabaseDirectory {
      let path = URL(fileURLWithPath: directory, relativeTo: base).standardizedFileURL.path
      folders.insert(path.hasSuffix(".json") ? (path as NSString).deletingLastPathComponent : path, at: 0)
    }
    do { return try BuildTargets.programs(in: folders) } catch { throw CheckRun.SetupError(description: "\(error)") }
  }
}

/// What the build says about which file goes into which program, read before parsing: the
/// program graph is made with it, and a run record is keyed by it (a new build folder or an
/// edited Makefile.am changes the programs without changing a source file).
struct LinkInformation {
  /// File to program, from meson's or CMake's build folder; nil when programs are named in
  /// the configuration or no build folder has them.
  var programs: [String: String]?
  /// Files built only into automake's private (noinst/check) libraries.
  var privateLibraryFiles: Set<String>

  init(roots: [String], configuration: LoadedConfiguration, options: CheckRun.Options) throws {
    programs = configuration.root.programs.isEmpty ? try ProgramBuilding.linkedPrograms(options) : nil
    privateLibraryFiles = AutomakeLibraries.privateLibraryFiles(under: roots)
  }

  var fingerprint: String {
    var hash = ContentHash()
    for (file, program) in (programs ?? [:]).sorted(by: { $0.key < $1.key }) { hash.add("\(file)=\(program)") }
    hash.add(programs == nil ? "no build programs" : "build programs")
    for file in privateLibraryFiles.sorted() { hash.add(file) }
    return hash.hex
  }
}
