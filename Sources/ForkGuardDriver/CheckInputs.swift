import ForkGuardCore
import Foundation

/// Phase 2 of a check, collecting inputs: the C and Swift files to analyse (the paths given,
/// else the compilation database's files), editor buffers not saved yet, less what the
/// configuration excludes, cut to the shard.
struct CheckInputs {
  /// Sorted absolute paths.
  var files: [String]
  /// The folders and files given, absolute: where the project's headers and build are looked for.
  var roots: [String]
  /// Inputs that cannot be read, each naming the file and the problem.
  var errors: [String]

  static func collect(_ options: CheckRun.Options, configuration: LoadedConfiguration) throws -> CheckInputs {
    var paths = options.paths
    if paths.isEmpty, options.factsPaths.isEmpty, let database = configuration.database {
      paths = database.files
      guard !paths.isEmpty else {
        throw CheckRun.SetupError(description: "\(database.path): lists no compile commands")
      }
    }
    var (files, problems) = InputFiles.collect(paths, base: options.base)
    var errors = problems.map(\.description)
    let roots = paths.map {
      URL(fileURLWithPath: $0, relativeTo: URL(fileURLWithPath: options.base, isDirectory: true))
        .standardizedFileURL.path
    }
    // An editor buffer not yet saved is an input too, when it is under a folder given.
    let unsavedInputs = options.unsavedFiles.keys.filter { file in
      ["c", "swift"].contains((file as NSString).pathExtension) && !FileManager.default.fileExists(atPath: file)
        && roots.contains { file.hasPrefix($0 + "/") }
    }
    files = Set(files).union(unsavedInputs).sorted()
    let found = files.count
    files = try files.filter { !(try configuration.configurations.configuration(for: $0).excludes($0)) }
    // "Analysed nothing" must not look like "all clean".
    if files.isEmpty, problems.isEmpty, options.factsPaths.isEmpty, options.shard == nil {
      let excluded = found > 0 ? " (\(found) excluded by the configuration)" : ""
      errors.append("no C or Swift files found in \(paths.joined(separator: ", "))\(excluded)")
    }
    if let shard = options.shard {
      files = files.enumerated().filter { $0.offset % shard.count == shard.index - 1 }.map(\.element)
    }
    return CheckInputs(files: files, roots: roots, errors: errors)
  }
}
