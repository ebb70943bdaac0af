import ForkGuardCore
import ForkGuardSwift
import ForkGuardTestSupport
import Foundation
import Testing

@Suite("Swift front end")
struct SwiftFrontEndTests {
  func facts(_ source: String) throws -> FileFacts {
    try SwiftFrontEnd(knowledge: try Knowledge()).facts(for: "/virtual/main.swift", text: source)
  }

  @Test func topLevelCodeIsMainAndMethodsAreQualified() throws {
    let file = try facts(
      """
      struct Pool { func drain() { print("x") } }
      let pid = fork()
      """)
    #expect(file.functions.map(\.name).sorted() == ["Pool.drain", "main"])
    #expect(file.functions.first { $0.name == "Pool.drain" }?.symbol == "swift:Pool.drain")
  }

  @Test func cdeclExportsToC() throws {
    let file = try facts("@_cdecl(\"c_name\") func swiftName() {}")
    #expect(file.functions.first?.symbol == "c:@F@c_name")
  }

  @Test func childRegionOfAGuard() throws {
    let file = try facts(
      """
      func spawn() -> pid_t {
        let pid = fork()
        guard pid == 0 else { return pid }
        print("child \\(pid)")
        _exit(0)
      }
      """)
    let region = try #require(file.childRegions.first)
    #expect(region.calls.map(\.callee) == ["<string interpolation>", "print", "_exit"])
    #expect(region.returns.isEmpty)
  }

  @Test func conditionalCompilationClausesAreAllSeen() throws {
    let file = try facts(
      """
      #if os(Linux)
      func linuxOnly() {}
      #else
      func elsewhere() {}
      #endif
      """)
    #expect(Set(file.functions.map(\.name)) == ["linuxOnly", "elsewhere"])
  }

  @Test func syntaxErrorsAreAnIncompleteParseNotAFailure() throws {
    let file = try facts("func broken() { let x = }\nfunc fine() { print(1) }\n")
    #expect(file.parseProblem != nil)
    #expect(file.functions.contains { $0.name == "fine" })
  }

  @Test func manifestGivesEveryTargetsHeaderFolders() throws {
    let root = Scratch.root.appendingPathComponent("fg-manifest-\(UUID().uuidString)")
    for folder in ["Sources/A/include", "Sources/B/headers", "custom/C/private"] {
      try FileManager.default.createDirectory(
        at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
    }
    try """
    // swift-tools-version:5.9
    import PackageDescription
    let package = Package(name: "P", targets: [
      .target(name: "A"),
      .target(name: "B", publicHeadersPath: "headers"),
      .target(name: "C", path: "custom/C", cSettings: [.headerSearchPath("private")]),
      .executableTarget(name: "App", dependencies: ["A", "B", "C"]),
    ])
    """.write(to: root.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
    let manifest = try #require(PackageManifest(packageRoot: root.path))
    #expect(manifest.targets.map(\.name) == ["A", "B", "C", "App"])
    #expect(
      manifest.includeDirectories.map { String($0.dropFirst(root.path.count + 1)) } == [
        "Sources/A/include", "Sources/B/headers", "custom/C/private",
      ])
  }
}
