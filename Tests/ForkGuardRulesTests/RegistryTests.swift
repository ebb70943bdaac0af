import ForkGuardRules
import ForkGuardTestSupport
import Foundation
import Testing

/// Every rule in the registry has its docs page and both kinds of fixtures, and nothing
/// outside the registry pretends to be a rule.
@Suite("Rule registry")
struct RegistryTests {
  static let root = Fixture.root
  /// The floor for the rules on fork children and handlers.
  static let minimumFixtures: [String: (positive: Int, negative: Int)] = [
    "fork-child-unsafe-call": (12, 8),
    "vfork-child": (12, 8),
    "signal-handler-unsafe-call": (12, 8),
    "atfork-handler-unsafe-call": (12, 8),
    "lock-held-across-fork": (10, 10),
    "fork-child-lock": (10, 10),
  ]

  @Test func idsAreUniqueAndWellFormed() {
    let ids = RuleRegistry.descriptors.map(\.id)
    #expect(Set(ids).count == ids.count)
    for id in ids {
      #expect(id.range(of: "^[a-z]+(-[a-z]+)*$", options: .regularExpression) != nil, "\(id)")
    }
  }

  @Test(arguments: RuleRegistry.descriptors.map(\.id))
  func ruleHasDocsPage(_ id: String) throws {
    let page = try String(
      contentsOf: Self.root.appendingPathComponent("docs/rules/\(id).md"), encoding: .utf8)
    #expect(page.hasPrefix("# \(id)"))
    for section in ["## Why", "## How to fix", "## Options", "## References"] {
      #expect(page.contains(section), "docs/rules/\(id).md lacks '\(section)'")
    }
  }

  @Test(arguments: RuleRegistry.descriptors.map(\.id))
  func ruleHasPositiveAndNegativeFixtures(_ id: String) throws {
    let fixtures = Fixture.all(in: [id])
    var positive = 0
    var negative = 0
    for fixture in fixtures {
      let parsed = try fixture.files.map(ExpectationFile.init(path:))
      if parsed.contains(where: { $0.expectations.contains { $0.kind != .note } }) { positive += 1 }
      if parsed.contains(where: \.expectsNoDiagnostics) { negative += 1 }
    }
    let minimum = Self.minimumFixtures[id] ?? (1, 1)
    #expect(positive >= minimum.positive, "\(id): \(positive) positive fixtures")
    #expect(negative >= minimum.negative, "\(id): \(negative) negative fixtures")
  }

  @Test func everyDocsPageAndFixtureFolderBelongsToARule() throws {
    let ids = Set(RuleRegistry.descriptors.map(\.id))
    let manager = FileManager.default
    let pages = try manager.contentsOfDirectory(atPath: Self.root.appendingPathComponent("docs/rules").path)
      .filter { $0.hasSuffix(".md") }.map { String($0.dropLast(3)) }
    #expect(Set(pages) == ids)
    let folders = try manager.contentsOfDirectory(atPath: Self.root.appendingPathComponent("fixtures").path)
      .filter { !["packages", "runtime", "stress"].contains($0) }  // not one rule's: whole packages, run-time programs, stress tests of the preload library
    #expect(Set(folders).isSubset(of: ids), "\(Set(folders).subtracting(ids))")
  }
}
