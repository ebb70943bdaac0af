import ForkGuardCore
import ForkGuardRules
import ForkGuardRuntime
import ForkGuardTestSupport
import Foundation
import Testing

extension Fixture {
  /// Programs run under the preload library: `fixtures/runtime-*/` and `fixtures/runtime/`.
  static func runtimePrograms() -> [Fixture] {
    all(in: RuleRegistry.runtime.map(\.id) + ["runtime"])
  }

  /// `// forkguard-run-options: --track --unsafe-calls --on-deadlock edeadlk`
  func runOptions(program: String, library: String) -> RuntimeRun.Options {
    // `timeout` keeps a regression that hangs from hanging the test suite.
    var options = RuntimeRun.Options(program: "/usr/bin/timeout", arguments: ["120", program], library: library)
    var iterator = words(after: "forkguard-run-options:").makeIterator()
    while let word = iterator.next() {
      switch word {
      case "--track": options.track = true
      case "--unsafe-calls": options.unsafeCalls = true
      case "--on-deadlock": options.onDeadlock = iterator.next()
      default: break
      }
    }
    return options
  }
}

/// Each program is built with debug info, run under the library, and its symbolized
/// reports checked against the annotations in its source, as the static fixtures are.
@Suite("Runtime fixtures", .serialized)
struct RuntimeFixtureTests {
  static let library = try? PreloadLibrary.locate(executable: CommandLine.arguments[0])
  static let buildDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
    "forkguard-runtime-fixtures-\(ProcessInfo.processInfo.processIdentifier)")

  static func build(_ fixture: Fixture) throws -> String {
    try FileManager.default.createDirectory(at: buildDirectory, withIntermediateDirectories: true)
    let source = fixture.files[0]
    let output = buildDirectory.appendingPathComponent(
      fixture.rule + "-" + ((source as NSString).lastPathComponent as NSString).deletingPathExtension
    ).path
    let compiler =
      source.hasSuffix(".swift")
      ? ["swiftc", "-g", "-Onone", "-o", output, source]
      : ["cc", "-g", "-O0", "-pthread", "-o", output, source]
    let build = try Command.run(compiler)
    guard build.status == 0 else {
      throw BuildFailure(text: "\(compiler.joined(separator: " ")): \(build.stderr)")
    }
    return output
  }

  struct BuildFailure: Error, CustomStringConvertible {
    var text: String
    var description: String { text }
  }

  @Test("program's reports match its annotations", arguments: Fixture.runtimePrograms())
  func program(_ fixture: Fixture) throws {
    let library = try #require(Self.library, "build the preload library with scripts/build-preload.sh")
    let binary = try Self.build(fixture)
    // The Swift runtime's crash report for a child forkguard aborted is noise here.
    setenv("SWIFT_BACKTRACE", "enable=no", 1)
    let result = try RuntimeRun.run(fixture.runOptions(program: binary, library: library))
    let expectedStatus = fixture.words(after: "expected-exit-status:").first.flatMap { Int32($0) } ?? 0
    #expect(result.exitStatus == expectedStatus, "exit status")
    let failures = try FixtureVerifier.verify(fixture: fixture, diagnostics: result.diagnostics)
    #expect(failures.isEmpty, Comment(rawValue: "\n" + failures.joined(separator: "\n")))
  }

  @Test func libraryNeedsOnlyLibcAndExportsOnlyItsWrappers() throws {
    let library = try #require(Self.library)
    let dynamic = try Self.output(["readelf", "-d", library])
    let needed = dynamic.split(separator: "\n").filter { $0.contains("(NEEDED)") }
    #expect(needed.count == 1 && needed[0].contains("[libc.so.6]"), "\(needed)")
    let symbols = try Self.output(["nm", "-D", "--defined-only", library]).split(separator: "\n")
      .compactMap { $0.split(separator: " ").last.map(String.init) }
    let map = try String(
      contentsOf: Fixture.root.appendingPathComponent("Sources/ForkGuardPreload/exports.map"), encoding: .utf8)
    let promised = Set(
      map.components(separatedBy: "global:")[1].components(separatedBy: "local:")[0]
        .split(whereSeparator: { " ;\n".contains($0) }).map(String.init))
    #expect(Set(symbols) == promised)
    #expect(promised.isSuperset(of: ["fork", "_Fork", "vfork", "pthread_mutex_lock", "pthread_cond_wait"]))
  }

  @Test func badOptionsStopTheProcessWithAClearError() throws {
    let library = try #require(Self.library)
    let run = try Command.run(
      ["/bin/true"], environment: ["LD_PRELOAD": library, "FORKGUARD_OPTIONS": "mode=track:colour=blue"])
    #expect(run.status == 2)
    #expect(run.stderr.contains("bad FORKGUARD_OPTIONS: unknown key 'colour'"))
  }

  static func output(_ command: [String]) throws -> String {
    try Command.run(command).stdout
  }

}
