import ForkGuardCore
import Foundation

/// Findings a project has accepted for now. An entry matches by rule, file, enclosing
/// function and the text of the line (not its number, so unrelated edits do not break it),
/// as many times as it was counted.
public struct Baseline: Codable, Sendable {
  public struct Entry: Codable, Hashable, Sendable {
    public var rule: String
    public var file: String
    public var function: String
    public var text: String
    public var count: Int
  }

  public static let version = 1

  /// The folder a baseline's paths are relative to, so that it works from any working
  /// directory and on another machine: the nearest folder at or above the baseline holding
  /// `.forkguard.yml` or `.git`, else the baseline's own folder.
  public static func projectRoot(of baselinePath: String) -> String {
    let own = (baselinePath as NSString).deletingLastPathComponent
    return ProjectRoot.nearest(from: own) ?? own
  }
  public var version: Int
  public var findings: [Entry]

  public struct Problem: Error, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
  }

  public static func load(path: String) throws -> Baseline {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw Problem(path: path, problem: "cannot read baseline")
    }
    do {
      let baseline = try JSONDecoder().decode(Baseline.self, from: data)
      guard baseline.version == version else {
        throw Problem(path: path, problem: "baseline version \(baseline.version) is not \(version)")
      }
      return baseline
    } catch let problem as Problem {
      throw problem
    } catch {
      throw Problem(path: path, problem: "not a forkguard baseline: \(error)")
    }
  }

  func write(to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    do { try encoder.encode(self).write(to: URL(fileURLWithPath: path)) } catch {
      throw Problem(path: path, problem: "cannot write baseline: \(error.localizedDescription)")
    }
  }
}

/// What identifies a finding for the baseline, in the project's terms.
struct BaselineKeyer {
  let base: String
  let program: ProgramGraph
  private var lines: [String: [String]] = [:]

  init(base: String, program: ProgramGraph) {
    self.base = base
    self.program = program
  }

  mutating func key(_ diagnostic: Diagnostic) -> Baseline.Entry? {
    guard let rule = diagnostic.ruleID else { return nil }
    let file = diagnostic.location.file
    if lines[file] == nil {
      lines[file] = (try? String(contentsOfFile: file, encoding: .utf8))?.components(separatedBy: "\n") ?? []
    }
    let fileLines = lines[file]!
    let line = diagnostic.location.line
    let text = line >= 1 && line <= fileLines.count ? fileLines[line - 1].trimmingCharacters(in: .whitespaces) : ""
    let function =
      program.functions.values.filter {
        $0.location.file == file && $0.location.line <= line && line <= $0.bodyEnd.line
      }.max { $0.location.line < $1.location.line }?.name ?? ""
    let relative = file.hasPrefix(base + "/") ? String(file.dropFirst(base.count + 1)) : file
    return Baseline.Entry(rule: rule, file: relative, function: function, text: text, count: 1)
  }
}
