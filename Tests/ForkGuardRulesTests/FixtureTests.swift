import ForkGuardCore
import ForkGuardDriver
import ForkGuardRules
import ForkGuardTestSupport
import Foundation
import Testing

extension Fixture {
  /// Small mixed C and Swift SwiftPM packages, analysed as a whole from their root:
  /// `fixtures/packages/<name>/`. Their expectations name their rules.
  static func packages() -> [Fixture] {
    let folder = root.appendingPathComponent("fixtures/packages")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.sorted() ?? []
    return names.map { name in
      let package = folder.appendingPathComponent(name).path
      let files = (FileManager.default.enumerator(atPath: package)?.compactMap { $0 as? String } ?? [])
        .filter { sourceExtensions.contains(($0 as NSString).pathExtension) && !$0.hasSuffix("Package.swift") }
        .sorted().map { package + "/" + $0 }
      return Fixture(rule: "packages", path: package, files: files)
    }
  }

  /// The static rules' fixtures: `fixtures/<rule-id>/`.
  static func staticRules() -> [Fixture] {
    all(in: RuleRegistry.descriptors.filter { $0.kind == .staticAnalysis }.map(\.id))
  }

  /// Options a fixture asks for in a `// forkguard-options: --profile glibc` line.
  var options: CheckRun.Options {
    let paths = rule == "packages" ? [path] : files.filter { !$0.hasSuffix(".h") }
    var options = CheckRun.Options(paths: paths, base: Fixture.root.path)
    options.jobs = 1
    options.usesCache = false
    var iterator = words(after: "forkguard-options:").makeIterator()
    while let word = iterator.next() {
      switch word {
      case "--profile": options.profile = iterator.next().flatMap(SafetyProfile.init(rawValue:))
      case "--report-unverifiable": options.reportUnverifiable = true
      case "--report-unused-suppressions": options.reportUnusedSuppressions = true
      case "--threads": options.threads = iterator.next().flatMap(AnalysisOptions.Threads.init(rawValue:))
      case "--config": options.configurationPath = iterator.next().map { path + "/" + $0 }
      default: break
      }
    }
    // Fixtures carry no .forkguard.yml unless they ask for one.
    options.searchesConfiguration = false
    return options
  }
}

@Suite("Fixtures")
struct FixtureTests {
  @Test("fixture matches its annotations", arguments: Fixture.staticRules() + Fixture.packages())
  func fixture(_ fixture: Fixture) throws {
    let result = try CheckRun.run(fixture.options)
    #expect(result.errors.isEmpty, Comment(rawValue: "\(result.errors)"))
    let failures = try FixtureVerifier.verify(fixture: fixture, diagnostics: result.diagnostics)
    #expect(failures.isEmpty, Comment(rawValue: "\n" + failures.joined(separator: "\n")))
  }
}
