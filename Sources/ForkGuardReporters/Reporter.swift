import ForkGuardCore
import Foundation

/// Turns the sorted diagnostics of one run into the text of one output format.
public protocol Reporter {
  /// The `--format` value.
  static var name: String { get }
  /// - Parameter rules: every rule's id and summary (SARIF describes them).
  init(paths: PathDisplay, rules: [RuleDescriptor])
  func render(_ diagnostics: [Diagnostic]) -> String
}

/// Prints paths relative to a base directory (the working directory), as clang does for
/// the paths it is given; paths outside it stay absolute.
public struct PathDisplay: Sendable {
  public let base: String

  public init(base: String = FileManager.default.currentDirectoryPath) {
    self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
  }

  public func display(_ path: String) -> String {
    if path.hasPrefix(base + "/") { return String(path.dropFirst(base.count + 1)) }
    return path
  }
}

public enum ReporterRegistry {
  public static let all: [any Reporter.Type] = [
    TextReporter.self, JSONReporter.self, SARIFReporter.self, GitHubReporter.self, JUnitReporter.self,
    GitLabReporter.self,
  ]

  public static func reporter(named name: String) -> (any Reporter.Type)? {
    all.first { $0.name == name }
  }
}
