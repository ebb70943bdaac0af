import ForkGuardC
import ForkGuardCore
import Foundation

/// Phase 1 of a check, loading the configuration: every `.forkguard.yml` in force, the
/// knowledge base each one makes (its JSON is decoded once per configuration), and the
/// compilation database.
final class LoadedConfiguration {
  var configurations: ConfigurationSet
  /// The knowledge of the configuration where forkguard runs: what parsing extracts.
  let parsingKnowledge: Knowledge
  let database: CompilationDatabase?
  private let profile: SafetyProfile?
  private var knowledgeByPath: [String: Knowledge] = [:]

  init(_ options: CheckRun.Options) throws {
    configurations = try ConfigurationSet(options: options)
    profile = options.profile
    let root = configurations.root
    parsingKnowledge = try Self.knowledge(root, profile: profile)
    knowledgeByPath[root.path ?? ""] = parsingKnowledge
    database = try Self.compilationDatabase(options)
  }

  var root: Configuration { configurations.root }

  /// The configuration files in force for `files` (what a run record is keyed by).
  func configurationFiles(of files: [String]) throws -> [String] { try configurations.sourceFiles(of: files) }

  func knowledge(for configuration: Configuration) throws -> Knowledge {
    if let known = knowledgeByPath[configuration.path ?? ""] { return known }
    let loaded = try Self.knowledge(configuration, profile: profile)
    knowledgeByPath[configuration.path ?? ""] = loaded
    return loaded
  }

  private static func knowledge(_ configuration: Configuration, profile: SafetyProfile?) throws -> Knowledge {
    do {
      return try Knowledge(profile: profile ?? configuration.profile ?? .posix2024, overrides: configuration.overrides)
    } catch {
      throw CheckRun.SetupError(description: "\(error)")
    }
  }

  /// `-p`'s database, else `compile_commands.json` or `build/compile_commands.json` where
  /// forkguard runs.
  private static func compilationDatabase(_ options: CheckRun.Options) throws -> CompilationDatabase? {
    let base = URL(fileURLWithPath: options.base, isDirectory: true)
    if let directory = options.compilationDatabaseDirectory {
      var path = URL(fileURLWithPath: directory, relativeTo: base).standardizedFileURL.path
      if !path.hasSuffix(".json") { path += "/compile_commands.json" }
      do { return try CompilationDatabase(path: path) } catch { throw CheckRun.SetupError(description: "\(error)") }
    }
    for candidate in ["compile_commands.json", "build/compile_commands.json"] {
      let path = base.appendingPathComponent(candidate).path
      if FileManager.default.fileExists(atPath: path) {
        do { return try CompilationDatabase(path: path) } catch { throw CheckRun.SetupError(description: "\(error)") }
      }
    }
    return nil
  }
}
