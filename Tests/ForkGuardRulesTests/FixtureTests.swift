import ForkGuardCore
import ForkGuardDriver
import ForkGuardRules
import ForkGuardTestSupport
import Foundation
import Testing

extension Fixture {
  /// The static rules' fixtures: `fixtures/<rule-id>/`.
  static func staticRules() -> [Fixture] {
    all(in: RuleRegistry.descriptors.filter { $0.kind == .staticAnalysis }.map(\.id))
  }

  /// Options a fixture asks for in a `// forkguard-options: --profile glibc` line.
  var options: CheckRun.Options {
    var options = CheckRun.Options(paths: files.filter { !$0.hasSuffix(".h") }, base: Fixture.root.path)
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
  @Test("fixture matches its annotations", arguments: Fixture.staticRules())
  func fixture(_ fixture: Fixture) throws {
    let result = try CheckRun.run(fixture.options)
    #expect(result.errors.isEmpty, Comment(rawValue: "\(result.errors)"))
    let failures = try FixtureVerifier.verify(fixture: fixture, diagnostics: result.diagnostics)
    #expect(failures.isEmpty, Comment(rawValue: "\n" + failures.joined(separator: "\n")))
  }
}
