import ForkGuardCore
import Foundation

// What the machine formats for CI services share: the project root, columns as editors
// count them, fingerprints that survive edits.

/// Paths relative to the project's root, as code scanning and GitLab want them (SARIF:
/// artifact locations under `%SRCROOT%`).
struct SourceRoot {
  let root: String

  /// The project's root (the nearest folder at or above the working directory
  /// holding `.git` or `.forkguard.yml`), so a run from `build/` still writes relative URIs;
  /// widened to the files' common folder when a file lies outside it.
  static func projectRoot(base: String, files: [String]) -> String {
    var root = ProjectRoot.nearest(from: base) ?? base
    for file in files where file.hasPrefix("/") && !file.hasPrefix(root + "/") {
      while root != "/" && !file.hasPrefix(root + "/") { root = (root as NSString).deletingLastPathComponent }
    }
    return root
  }

  func relative(_ path: String) -> String {
    guard path.hasPrefix("/") else { return path }
    if root == "/" { return String(path.dropFirst()) }
    return path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
  }

  func artifact(_ path: String) -> [String: Any] {
    let relative = relative(path)
    if relative.hasPrefix("/") { return ["uri": Self.fileURI(relative)] }
    return [
      "uri": relative.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? relative,
      "uriBaseId": "%SRCROOT%",
    ]
  }

  static func fileURI(_ path: String) -> String {
    "file://" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path)
  }
}

/// clang's columns count bytes; SARIF's `utf16CodeUnits` counts UTF-16 units. The line is
/// read from the file to convert (a file that cannot be read keeps the byte column).
struct UTF16Columns {
  private var lines: [String: [Substring]] = [:]

  mutating func lineText(file: String, line: Int) -> String {
    guard line >= 1, let text = fileLines(file), line <= text.count else { return "" }
    return text[line - 1].trimmingCharacters(in: .whitespaces)
  }

  mutating func column(file: String, line: Int, byte: Int) -> Int {
    guard line >= 1, let text = fileLines(file), line <= text.count else { return byte }
    let bytes = Array(text[line - 1].utf8)
    guard byte - 1 <= bytes.count else { return byte }
    return String(decoding: bytes[..<(byte - 1)], as: UTF8.self).utf16.count + 1
  }

  private mutating func fileLines(_ file: String) -> [Substring]? {
    if let known = lines[file] { return known }
    guard let data = FileManager.default.contents(atPath: file) else { return nil }
    let split = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    lines[file] = split
    return split
  }
}

/// Stable across line shifts (rule, file, the line's text and the message, not the line
/// number), and unique: the n-th finding with the same hash gets `:n`, as GitHub's own
/// `primaryLocationLineHash` does.
struct FingerprintCounter {
  private var seen: [String: Int] = [:]

  mutating func next(rule: String, file: String, text: String, message: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in "\(rule)|\(file)|\(text)|\(message)".utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    let base = String(hash, radix: 16)
    seen[base, default: 0] += 1
    return "\(base):\(seen[base]!)"
  }
}
