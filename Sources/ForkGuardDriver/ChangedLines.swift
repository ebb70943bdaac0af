import Foundation

/// The lines a change touched since a git revision (`--diff REF`): what review bots and
/// pre-commit hooks report on. New-side line numbers from `git diff --unified=0 REF`, plus
/// every line of files git does not track yet.
public struct ChangedLines: Sendable {
  /// Absolute path to the changed line numbers.
  public private(set) var lines: [String: Set<Int>] = [:]

  public struct Problem: Error, CustomStringConvertible {
    public var description: String
  }

  public init(lines: [String: Set<Int>]) { self.lines = lines }

  /// - Parameter directory: a folder inside the repository.
  public init(since revision: String, in directory: String) throws {
    let top = try Self.git(["rev-parse", "--show-toplevel"], in: directory).trimmingCharacters(
      in: .whitespacesAndNewlines)
    guard !top.isEmpty else { throw Problem(description: "--diff: \(directory) is not inside a git repository") }
    let diff = try Self.git(
      ["diff", "--unified=0", "--no-color", "--no-ext-diff", "--relative=", revision, "--"], in: top)
    lines = Self.parse(diff: diff, root: top)
    let untracked = try Self.git(["ls-files", "--others", "--exclude-standard", "-z"], in: top)
    for path in untracked.split(separator: "\0") {
      let file = top + "/" + path
      let count =
        (try? String(contentsOfFile: file, encoding: .utf8))?.split(
          separator: "\n", omittingEmptySubsequences: false
        ).count ?? 0
      lines[file, default: []].formUnion(1...max(count, 1))
    }
  }

  public func contains(file: String, line: Int) -> Bool { lines[file]?.contains(line) ?? false }

  /// `+++ b/path` names a file; `@@ -a,b +c,d @@` gives lines c…c+d-1 (d = 0: a deletion,
  /// which touches no new line; d absent: 1).
  static func parse(diff: String, root: String) -> [String: Set<Int>] {
    var result: [String: Set<Int>] = [:]
    var file: String?
    for line in diff.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("+++ ") {
        let name = line.dropFirst(4)
        file = name == "/dev/null" ? nil : root + "/" + (name.hasPrefix("b/") ? name.dropFirst(2) : name)
        continue
      }
      guard line.hasPrefix("@@ "), let file else { continue }
      guard let plus = line.split(separator: " ").first(where: { $0.hasPrefix("+") }) else { continue }
      let parts = plus.dropFirst().split(separator: ",")
      guard let start = Int(parts[0]) else { continue }
      let count = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
      if count > 0 { result[file, default: []].formUnion(start..<(start + count)) }
    }
    return result
  }

  private static func git(_ arguments: [String], in directory: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git"] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    do { try process.run() } catch { throw Problem(description: "--diff needs git: \(error.localizedDescription)") }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let message = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      throw Problem(description: "--diff: git \(arguments.first ?? "") failed: \(text)")
    }
    return String(decoding: data, as: UTF8.self)
  }
}
