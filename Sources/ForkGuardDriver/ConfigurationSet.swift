import Foundation

/// The configuration of every file: `--config` for all, or the nearest `.forkguard.yml`
/// above each file refining those above it (up to one with `root: true`), or none. Each
/// file is loaded once.
struct ConfigurationSet {
  let explicit: Configuration?
  let searches: Bool
  let root: Configuration
  private var byDirectory: [String: String?] = [:]
  private var effective: [String: Configuration] = [:]

  init(options: CheckRun.Options) throws {
    searches = options.searchesConfiguration
    var effective: [String: Configuration] = [:]
    do {
      explicit = try options.configurationPath.map(Configuration.load(path:))
      if let explicit {
        root = explicit
      } else if searches, let path = Configuration.find(from: options.base) {
        root = try Self.effective(path, cache: &effective)
      } else {
        root = Configuration()
      }
    } catch {
      throw CheckRun.SetupError(description: "\(error)")
    }
    self.effective = effective
  }

  /// The configuration at `path` over everything it inherits.
  private static func effective(_ path: String, cache: inout [String: Configuration]) throws -> Configuration {
    if let known = cache[path] { return known }
    var configuration = try Configuration.load(path: path)
    let folder = (path as NSString).deletingLastPathComponent
    let above = (folder as NSString).deletingLastPathComponent
    if !configuration.isRoot, above != folder, let parentPath = Configuration.find(from: above) {
      configuration = configuration.refining(try effective(parentPath, cache: &cache))
    }
    cache[path] = configuration
    return configuration
  }

  mutating func configuration(for file: String) throws -> Configuration {
    if let explicit { return explicit }
    guard searches else { return root }
    let directory = (file as NSString).deletingLastPathComponent
    let path: String?
    if let known = byDirectory[directory] {
      path = known
    } else {
      path = Configuration.find(from: directory)
      byDirectory[directory] = path
    }
    guard let path else { return Configuration() }
    do {
      return try Self.effective(path, cache: &effective)
    } catch {
      throw CheckRun.SetupError(description: "\(error)")
    }
  }

  /// The `.forkguard.yml` files that make the given files' configurations, sorted: each
  /// file's nearest and those it refines, or `--config`'s.
  mutating func sourceFiles(of files: [String]) throws -> [String] {
    if let explicit { return explicit.path.map { [$0] } ?? [] }
    guard searches else { return [] }
    _ = try groups(of: files)
    return effective.keys.sorted()
  }

  /// The distinct configurations the files use, in a stable order (none first).
  mutating func groups(of files: [String]) throws -> [Configuration] {
    var seen = Set<String>()
    var result: [Configuration] = []
    for file in files {
      let configuration = try configuration(for: file)
      if seen.insert(configuration.path ?? "").inserted { result.append(configuration) }
    }
    if result.isEmpty { result.append(root) }
    return result.sorted { ($0.path ?? "") < ($1.path ?? "") }
  }
}
