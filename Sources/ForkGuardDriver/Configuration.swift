import ForkGuardCore
import Foundation
import Yams

/// `.forkguard.yml`: the safety profile and the user's own safe and unsafe functions.
///
///     profile: glibc
///     safe-functions:
///       log_raw: "formats with write(2) only"
///     unsafe-functions:
///       arena_alloc: "takes the arena lock"
public struct Configuration: Sendable {
  public static let fileName = ".forkguard.yml"

  public var path: String?
  public var profile: SafetyProfile?
  public var overrides = KnowledgeOverrides()

  public init() {}

  public struct Problem: Error, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var problem: String
    public var description: String {
      line.map { "\(path):\($0): \(problem)" } ?? "\(path): \(problem)"
    }
  }

  /// The nearest `.forkguard.yml` in `directory` or above it.
  public static func find(from directory: String) -> String? {
    var current = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
    while true {
      let candidate = current.appendingPathComponent(fileName).path
      if FileManager.default.fileExists(atPath: candidate) { return candidate }
      let parent = current.deletingLastPathComponent()
      if parent.path == current.path { return nil }
      current = parent
    }
  }

  public static func load(path: String) throws -> Configuration {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw Problem(path: path, line: nil, problem: "cannot read configuration file")
    }
    let text = String(decoding: data, as: UTF8.self)
    let node: Node?
    do { node = try Yams.compose(yaml: text) } catch {
      throw Problem(path: path, line: nil, problem: "not valid YAML: \(error)")
    }
    var configuration = Configuration()
    configuration.path = path
    guard let node else { return configuration }
    guard let mapping = node.mapping else {
      throw Problem(path: path, line: line(of: node), problem: "expected a mapping of settings")
    }
    for (key, value) in mapping {
      guard let name = key.string else {
        throw Problem(path: path, line: line(of: key), problem: "keys must be strings")
      }
      switch name {
      case "profile":
        guard let text = value.string, let profile = SafetyProfile(rawValue: text) else {
          let choices = SafetyProfile.allCases.map(\.rawValue).joined(separator: ", ")
          throw Problem(path: path, line: line(of: value), problem: "'profile' must be one of \(choices)")
        }
        configuration.profile = profile
      case "safe-functions":
        configuration.overrides.safe = try functionTable(value, key: name, path: path)
      case "unsafe-functions":
        configuration.overrides.unsafe = try functionTable(value, key: name, path: path)
      default:
        throw Problem(
          path: path, line: line(of: key),
          problem: "unknown key '\(name)' (known: profile, safe-functions, unsafe-functions)")
      }
    }
    return configuration
  }

  /// A mapping from function name to the reason, which the messages quote.
  private static func functionTable(_ node: Node, key: String, path: String) throws -> [String: String] {
    guard let mapping = node.mapping else {
      throw Problem(path: path, line: line(of: node), problem: "'\(key)' must map function names to reasons")
    }
    var table: [String: String] = [:]
    for (name, reason) in mapping {
      guard let function = name.string, let text = reason.string, !text.isEmpty else {
        throw Problem(
          path: path, line: line(of: name), problem: "'\(key)' entries must be 'function: reason' with a reason")
      }
      table[function] = text
    }
    return table
  }

  private static func line(of node: Node) -> Int? { node.mark.map { $0.line } }
}
