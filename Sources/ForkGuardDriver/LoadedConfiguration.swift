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
  private let session: CheckSession?
  private var knowledgeByPath: [String: Knowledge] = [:]

  init(_ options: CheckRun.Options) throws {
    configurations = try ConfigurationSet(options: options)
    profile = options.profile
    session = options.session
    let root = configurations.root
    parsingKnowledge = try Self.knowledge(root, profile: profile, session: session)
    knowledgeByPath[root.path ?? ""] = parsingKnowledge
    database = try Self.compilationDatabase(options)
  }

  var root: Configuration { configurations.root }

  /// The configuration files in force for `files` (what a run record is keyed by).
  func configurationFiles(of files: [String]) throws -> [String] { try configurations.sourceFiles(of: files) }

  func knowledge(for configuration: Configuration) throws -> Knowledge {
    if let known = knowledgeByPath[configuration.path ?? ""] { return known }
    let loaded = try Self.knowledge(configuration, profile: profile, session: session)
    knowledgeByPath[configuration.path ?? ""] = loaded
    return loaded
  }

  private static func knowledge(_ configuration: Configuration, profile: SafetyProfile?, session: CheckSession?) throws
    -> Knowledge
  {
    let profile = profile ?? configuration.profile ?? .posix2024
    do {
      if let session { return try session.knowledge(profile: profile, overrides: configuration.overrides) }
      return try Knowledge(profile: profile, overrides: configuration.overrides)
    } catch {
      throw CheckRun.SetupError(description: "\(error)")
    }
  }

  /// `-p`'s database, else `compile_commands.json` or `build/compile_commands.json` where
  /// forkguard runs.
  private static func compilationDatabase(_ options: CheckRun.Options) throws -> CompilationDatabase? {
    let base = URL(fileURLWithPath: options.base, isDirectory: true)
    func read(_ path: String) throws -> CompilationDatabase {
      do {
        if let session = options.session { return try session.compilationDatabase(at: path) }
        return try CompilationDatabase(path: path)
      } catch {
        throw CheckRun.SetupError(description: "\(error)")
      }
    }
    if let directory = options.compilationDatabaseDirectory {
      var path = URL(fileURLWithPath: directory, relativeTo: base).standardizedFileURL.path
      if !path.hasSuffix(".json") { path += "/compile_commands.json" }
      return try read(path)
    }
    for candidate in ["compile_commands.json", "build/compile_commands.json"] {
      let path = base.appendingPathComponent(candidate).path
      if FileManager.default.fileExists(atPath: path) { return try read(path) }
    }
    return nil
  }
}
