import ForkGuardC
import ForkGuardCore
import ForkGuardSwift
import Foundation

/// The compiler flags each file is parsed with: the compilation database's where it lists
/// the file, else forkguard's defaults (the include folders found near the file, a SwiftPM
/// package's C headers, the library-features header), then the user's flags after `--`.
struct ParseArguments: Sendable {
  private let database: CompilationDatabase?
  private let defaults: [String: [String]]
  private let extraArguments: [String]

  init(inputs: CheckInputs, configuration: LoadedConfiguration, options: CheckRun.Options) {
    database = configuration.database
    extraArguments = options.extraArguments
    var includeSearch = IncludeDirectories(roots: inputs.roots)
    // A SwiftPM package: every C target's public headers are visible to the others.
    let packages = inputs.roots.compactMap(PackageManifest.init(packageRoot:))
    func packageIncludes(_ file: String) -> [String] {
      packages.filter { file.hasPrefix($0.root + "/") }.flatMap(\.includeDirectories)
    }
    let features = LibraryFeatures.header(configuration.parsingKnowledge).map { ["-include", $0] } ?? []
    defaults = Dictionary(
      uniqueKeysWithValues: inputs.files.map { file in
        let directories = includeSearch.directories(for: file)
        return (
          file,
          CFrontEnd.defaultArguments(
            for: file, includeDirectories: directories + packageIncludes(file).filter { !directories.contains($0) })
            + features
        )
      })
  }

  func callAsFunction(_ file: String) -> [String] {
    if let arguments = database?.parseArguments(for: file) { return arguments + extraArguments }
    return CFrontEnd.arguments(defaults: defaults[file]!, userFlags: extraArguments)
  }
}
