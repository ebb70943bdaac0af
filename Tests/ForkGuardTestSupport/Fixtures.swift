import ForkGuardCore
import Foundation

/// A fixture: one annotated file, or a folder whose files are analysed together (for
/// chains across files). `fixtures/<rule-id>/…`.
public struct Fixture: Sendable, CustomStringConvertible {
  /// The folder the fixture is in: a rule id, or `runtime` for programs about several rules.
  public var rule: String
  public var path: String
  public var files: [String]

  public init(rule: String, path: String, files: [String]) {
    self.rule = rule
    self.path = path
    self.files = files
  }

  public var description: String { "\(rule)/\((path as NSString).lastPathComponent)" }

  public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  public static let sourceExtensions: Set<String> = ["c", "h", "swift", "py"]

  /// The fixtures of the given folders under `fixtures/`.
  public static func all(in folders: [String]) -> [Fixture] {
    let manager = FileManager.default
    let fixtures = root.appendingPathComponent("fixtures")
    var result: [Fixture] = []
    for rule in folders {
      let folder = fixtures.appendingPathComponent(rule)
      for name in (try? manager.contentsOfDirectory(atPath: folder.path))?.sorted() ?? [] {
        let path = folder.appendingPathComponent(name).path
        var isDirectory: ObjCBool = false
        _ = manager.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue {
          // Subfolders too: a fixture of two programs keeps each in a folder of its own.
          let members = ((try? manager.subpathsOfDirectory(atPath: path)) ?? []).sorted()
            .filter { sourceExtensions.contains(($0 as NSString).pathExtension) }
            .map { path + "/" + $0 }
          result.append(Fixture(rule: rule, path: path, files: members))
        } else if sourceExtensions.contains((name as NSString).pathExtension) && !name.hasSuffix(".h") {
          result.append(Fixture(rule: rule, path: path, files: [path]))
        }
      }
    }
    return result
  }

  /// The words after `marker` on any line of the fixture's files, e.g. the options in
  /// `// forkguard-options: --profile glibc`.
  public func words(after marker: String) -> [String] {
    let text = files.compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }.joined(separator: "\n")
    return text.components(separatedBy: "\n").filter { $0.contains(marker) }.flatMap {
      $0.components(separatedBy: marker)[1].split(separator: " ").map(String.init)
    }
  }
}

public enum FixtureVerifier {
  struct Emitted {
    var kind: Expectation.Kind
    var location: ForkGuardCore.SourceLocation
    var text: String
    var rule: String?
    var matched = false
  }

  /// Every diagnostic must be expected and every expectation met; warnings without an
  /// explicit `[rule-id]` in their text must come from the fixture's own rule.
  public static func verify(fixture: Fixture, diagnostics: [Diagnostic]) throws -> [String] {
    var failures: [String] = []
    var emitted: [Emitted] = []
    for diagnostic in diagnostics {
      let kind: Expectation.Kind =
        diagnostic.severity == .note ? .note : (diagnostic.severity == .error ? .error : .warning)
      let text = diagnostic.message + (diagnostic.ruleID.map { " [\($0)]" } ?? "")
      emitted.append(Emitted(kind: kind, location: diagnostic.location, text: text, rule: diagnostic.ruleID))
      for note in diagnostic.notes {
        emitted.append(Emitted(kind: .note, location: note.location, text: note.message, rule: nil))
      }
    }
    var anyExpectation = false
    var anyNoDiagnostics = false
    for file in fixture.files {
      let parsed = try ExpectationFile(path: file)
      failures += parsed.problems
      anyNoDiagnostics = anyNoDiagnostics || parsed.expectsNoDiagnostics
      for expectation in parsed.expectations {
        anyExpectation = true
        var found = 0
        for index in emitted.indices where found < expectation.count {
          let item = emitted[index]
          guard !item.matched, item.kind == expectation.kind, item.location.file == expectation.file,
            item.location.line == expectation.line, expectation.matches(item.text)
          else { continue }
          emitted[index].matched = true
          found += 1
          if expectation.kind != .note, let rule = item.rule, rule != fixture.rule,
            !expectation.text.contains("[\(rule)]")
          {
            failures.append("\(expectation): met by rule \(rule), not \(fixture.rule); name it as [\(rule)]")
          }
        }
        if found < expectation.count {
          failures.append("expected but not seen (\(found) of \(expectation.count)): \(expectation)")
        }
      }
    }
    if !anyExpectation && !anyNoDiagnostics {
      failures.append("fixture has neither expectations nor expected-no-diagnostics")
    }
    for item in emitted where !item.matched {
      failures.append(
        "seen but not expected: \((item.location.file as NSString).lastPathComponent):\(item.location.line):\(item.location.column): \(item.kind.rawValue): \(item.text)"
      )
    }
    return failures
  }
}
