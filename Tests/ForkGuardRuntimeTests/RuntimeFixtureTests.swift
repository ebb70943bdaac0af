import ForkGuardCore
import ForkGuardRules
import ForkGuardRuntime
import ForkGuardTestSupport
import Foundation
import Synchronization
import Testing

extension Fixture {
  /// Programs run under the preload library: `fixtures/runtime-*/` and `fixtures/runtime/`.
  static func runtimePrograms() -> [Fixture] {
    all(in: RuleRegistry.runtime.map(\.id) + ["runtime"])
  }

  /// `// forkguard-run-options: --track --unsafe-calls --on-deadlock edeadlk`
  func runOptions(program: String, library: String) -> RuntimeRun.Options {
    // `timeout` keeps a regression that hangs from hanging the test suite; clean-signals
    // first unblocks the signals the test runner's threads block, which `timeout`'s timer
    // and the fixtures' alarm() need.
    let launcher = (try? RuntimeFixtureTests.cleanSignals()) ?? "/usr/bin/env"
    var options = RuntimeRun.Options(
      program: launcher, arguments: ["/usr/bin/timeout", "120", program], library: library)
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
  static let buildDirectory = Scratch.root.appendingPathComponent(
    "forkguard-runtime-fixtures-\(ProcessInfo.processInfo.processIdentifier)")

  /// fixtures/stress/clean-signals.c, built once. Suites run side by side ask for it (the
  /// live-report tests too): one builds while the others wait, and the binary appears under
  /// its name only when complete. The linker makes its output executable as it starts
  /// writing, so a second caller that found it by name ran it half-written: "Text file busy".
  static func cleanSignals() throws -> String {
    try cleanSignalsBuild.withLock { _ in
      try FileManager.default.createDirectory(at: buildDirectory, withIntermediateDirectories: true)
      let output = buildDirectory.appendingPathComponent("clean-signals").path
      if FileManager.default.isExecutableFile(atPath: output) { return output }
      let source = Fixture.root.appendingPathComponent("fixtures/stress/clean-signals.c").path
      let partial = output + ".partial"
      let build = try Command.run(["cc", "-O2", "-o", partial, source])
      guard build.status == 0 else { throw BuildFailure(text: "clean-signals: \(build.stderr)") }
      guard rename(partial, output) == 0 else {
        throw BuildFailure(text: "clean-signals: cannot rename \(partial): \(String(cString: strerror(errno)))")
      }
      return output
    }
  }
  private static let cleanSignalsBuild = Mutex(())

  /// Debian's interpreter where there is one (the CI machine's), else the first on PATH.
  static let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"

  /// The program to run and its arguments: a built binary, or python3 with the script.
  static func build(_ fixture: Fixture) throws -> [String] {
    let source = fixture.files[0]
    if source.hasSuffix(".py") { return [python, source] }
    return [try compile(fixture)]
  }

  static func compile(_ fixture: Fixture) throws -> String {
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
    let command = try Self.build(fixture)
    // The Swift runtime's crash report for a child forkguard aborted is noise here.
    setenv("SWIFT_BACKTRACE", "enable=no", 1)
    var options = fixture.runOptions(program: command[0], library: library)
    options.arguments += command.dropFirst()
    let result = try RuntimeRun.run(options)
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
    let promised = Set(try Self.listedFunctions())
    #expect(Set(symbols) == promised)
    #expect(promised.isSuperset(of: ["fork", "_Fork", "vfork", "pthread_mutex_lock", "pthread_cond_wait"]))
  }

  /// What the library reports as runtime-child-unsafe-call is not async-signal-safe by the
  /// data the static rules use: off POSIX's list, and AS-Unsafe in the glibc manual.
  @Test func functionsReportedAsUnsafeAreUnsafeByTheRulesData() throws {
    let reported = Set(
      try Self.listedFunctions(
        defining: [
          "FG_UNSAFE(name, ...) name;",
          "FG_UNSAFE_BY_HAND(name, returns, parameters, real, real_parameters, reported_as, ...) reported_as;",
        ]))
    #expect(reported.isSuperset(of: ["malloc", "printf", "setenv", "syslog", "exit"]))
    let data = Fixture.root.appendingPathComponent("rules/data")
    let posix = Set(
      try String(contentsOf: data.appendingPathComponent("async-signal-safe-posix-2024.txt"), encoding: .utf8)
        .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") })
    #expect(reported.isDisjoint(with: posix))
    let glibc = try JSONSerialization.jsonObject(
      with: Data(contentsOf: data.appendingPathComponent("glibc-as-safety.json")))
    let functions = try #require((glibc as? [String: Any])?["functions"] as? [String: [String: Any]])
    for name in reported.sorted() {
      #expect(functions[name]?["as"] as? String == "AS-Unsafe", "\(name)")
    }
  }

  /// The names in rules/runtime/preload-functions.def, read through the C preprocessor as
  /// scripts/build-preload.sh reads them: one `name;` per line the given macros expand.
  static func listedFunctions(defining macros: [String] = ["FG_FUNCTION(name, ...) name;"]) throws -> [String] {
    let directory = Scratch.root.appendingPathComponent("forkguard-list-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("list.c")
    let text = macros.map { "#define \($0)\n" }.joined() + "#include \"preload-functions.def\"\n"
    try text.write(to: file, atomically: true, encoding: .utf8)
    let rules = Fixture.root.appendingPathComponent("rules/runtime").path
    let run = try Command.run(["cc", "-E", "-P", "-I", rules, file.path])
    try #require(run.status == 0, Comment(rawValue: run.stderr))
    return run.stdout.split(whereSeparator: { " ;\n".contains($0) }).map(String.init)
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
