import ForkGuardTestSupport
import Foundation
import Testing

/// The preload library without some of its real functions (fixtures/stress/
/// hide-real-functions.c hides them from its dlsym): each wrapper fails safe as its line in
/// rules/runtime/preload-functions.def says, never calling NULL, and says so once on stderr.
@Suite("Missing real functions")
struct MissingRealFunctionTests {
  static let hidden = ["pthread_spin_lock", "pthread_mutex_lock", "setenv", "fork", "vfork", "exit"]

  @Test func eachWrapperFailsSafeAndSaysSoOnce() throws {
    let library = try #require(RuntimeFixtureTests.library, "build the preload library with scripts/build-preload.sh")
    let directory = Scratch.root.appendingPathComponent(
      "forkguard-missing-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let stress = Fixture.root.appendingPathComponent("fixtures/stress")
    let shim = directory.appendingPathComponent("hide-real-functions.so").path
    let program = directory.appendingPathComponent("missing-real-functions").path
    for build in [
      ["cc", "-shared", "-fPIC", "-o", shim, stress.appendingPathComponent("hide-real-functions.c").path],
      ["cc", "-g", "-O0", "-pthread", "-o", program, stress.appendingPathComponent("missing-real-functions.c").path],
    ] {
      let result = try Command.run(build)
      try #require(result.status == 0, Comment(rawValue: result.stderr))
    }

    // Only the program runs without the functions: timeout, which forks, runs as it is.
    let run = try Command.run([
      "/usr/bin/timeout", "60", "/usr/bin/env", "LD_PRELOAD=\(shim) \(library)",
      "FORKGUARD_TEST_HIDE=\(Self.hidden.joined(separator: ","))", program,
    ])
    // exit() without its real function still ends the process with its status, by _exit.
    #expect(run.status == 5, "\(run.stderr)")
    #expect(run.stdout == "spin_lock 1\nspin_lock_again 1\nmutex_lock 1\nsetenv 1\nfork 1\nvfork 1\n")
    let complaints = run.stderr.split(separator: "\n").filter {
      $0.hasPrefix("forkguard: preload: cannot find the real '")
    }
    #expect(complaints.count == Self.hidden.count, "\(run.stderr)")
    for name in Self.hidden {
      #expect(complaints.filter { $0.contains("the real '\(name)' (dlsym: ") }.count == 1, "\(name): \(run.stderr)")
    }
    #expect(complaints.contains { $0.contains("'pthread_spin_lock'") && $0.hasSuffix("; calls fail with ENOSYS") })
    #expect(complaints.contains { $0.contains("'fork'") && $0.contains("fork() runs _Fork() instead") })
  }
}
