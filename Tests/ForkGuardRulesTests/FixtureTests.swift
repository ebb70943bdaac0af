import ForkGuardCore
import ForkGuardDriver
import ForkGuardRules
import Foundation
import Testing

/// A fixture: one annotated file, or a folder whose files are analysed together (for
/// chains across files). `fixtures/<rule-id>/…`.
struct Fixture: CustomTestStringConvertible, Sendable {
  var rule: String
  var path: String
  var files: [String]

  var testDescription: String { "\(rule)/\((path as NSString).lastPathComponent)" }

  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let sourceExtensions: Set<String> = ["c", "h"]

  static func all() -> [Fixture] {
    let manager = FileManager.default
    let fixtures = root.appendingPathComponent("fixtures")
    var result: [Fixture] = []
    for rule in RuleRegistry.all.map(\.id) {
      let folder = fixtures.appendingPathComponent(rule)
      for name in (try? manager.contentsOfDirectory(atPath: folder.path))?.sorted() ?? [] {
        let path = folder.appendingPathComponent(name).path
        var isDirectory: ObjCBool = false
        _ = manager.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue {
          let members = ((try? manager.contentsOfDirectory(atPath: path)) ?? []).sorted()
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

  /// Options a fixture asks for in a `// forkguard-options: --profile glibc` line.
  var options: CheckRun.Options {
    var options = CheckRun.Options(paths: files.filter { !$0.hasSuffix(".h") }, base: Fixture.root.path)
    options.jobs = 1
    let text = files.compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }.joined(separator: "\n")
    for line in text.components(separatedBy: "\n") where line.contains("forkguard-options:") {
      let words = line.components(separatedBy: "forkguard-options:")[1].split(separator: " ").map(String.init)
      var iterator = words.makeIterator()
      while let word = iterator.next() {
        switch word {
        case "--profile": options.profile = iterator.next().flatMap(SafetyProfile.init(rawValue:))
        case "--report-unverifiable": options.reportUnverifiable = true
        case "--config": options.configurationPath = iterator.next().map { path + "/" + $0 }
        default: break
        }
      }
    }
    // Fixtures carry no .forkguard.yml unless they ask for one.
    options.searchesConfiguration = false
    return options
  }
}

@Suite("Fixtures")
struct FixtureTests {
  @Test("fixture matches its annotations", arguments: Fixture.all())
  func fixture(_ fixture: Fixture) throws {
    let result = try CheckRun.run(fixture.options)
    #expect(result.errors.isEmpty, Comment(rawValue: "\(result.errors)"))
    let failures = try FixtureVerifier.verify(fixture: fixture, diagnostics: result.diagnostics)
    #expect(failures.isEmpty, Comment(rawValue: "\n" + failures.joined(separator: "\n")))
  }
}

enum FixtureVerifier {
  struct Emitted {
    var kind: Expectation.Kind
    var location: ForkGuardCore.SourceLocation
    var text: String
    var rule: String?
    var matched = false
  }

  /// Every diagnostic must be expected and every expectation met; warnings without an
  /// explicit `[rule-id]` in their text must come from the fixture's own rule.
  static func verify(fixture: Fixture, diagnostics: [Diagnostic]) throws -> [String] {
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
          if expectation.kind == .warning, let rule = item.rule, rule != fixture.rule,
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
