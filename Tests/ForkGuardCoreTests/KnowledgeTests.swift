import ForkGuardCore
import Foundation
import Testing

@Suite("Knowledge base")
struct KnowledgeTests {
  @Test func posixListsDecideSafety() throws {
    let posix2024 = try Knowledge(profile: .posix2024)
    let posix2017 = try Knowledge(profile: .posix2017)
    #expect(posix2024.safety(of: "write") == .safe)
    #expect(posix2024.safety(of: "_Fork") == .safe)
    #expect(posix2017.safety(of: "fork") == .safe)
    if case .unsafe = posix2024.safety(of: "fork") {} else { Issue.record("fork is not on the 2024 list") }
  }

  @Test func glibcReasonsBecomePhrases() throws {
    let knowledge = try Knowledge()
    #expect(knowledge.safety(of: "malloc") == .unsafe(reasons: ["takes a lock"]))
    #expect(knowledge.safety(of: "snprintf") == .unsafe(reasons: ["allocates"]))
  }

  @Test func glibcSafeFunctionsNeedTheGlibcProfile() throws {
    let strict = try Knowledge(profile: .posix2024)
    let glibc = try Knowledge(profile: .glibc)
    guard case .unsafe(let reasons) = strict.safety(of: "getenv") else {
      Issue.record("getenv should not be accepted by posix-2024")
      return
    }
    #expect(reasons.first?.contains("not on the POSIX.1-2024 list") == true)
    #expect(glibc.safety(of: "getenv") == .safe)
    #expect(glibc.safety(of: "malloc") != .safe)
  }

  @Test func fortifiedAndBuiltinNamesMapToThePublicFunction() throws {
    let knowledge = try Knowledge()
    #expect(knowledge.canonicalName("__printf_chk") == "printf")
    #expect(knowledge.canonicalName("__builtin_memcpy") == "memcpy")
    #expect(knowledge.safety(of: "__errno_location") == .safe)
    #expect(knowledge.safety(of: "__memcpy_chk") == .safe)
    #expect(knowledge.safety(of: "__fprintf_chk") == knowledge.safety(of: "fprintf"))
  }

  @Test func lockFunctionsAreTheirOwnKind() throws {
    let knowledge = try Knowledge()
    #expect(knowledge.safety(of: "pthread_mutex_lock") == .lock(.acquire))
    #expect(knowledge.safety(of: "pthread_mutex_trylock") == .lock(.tryAcquire))
    #expect(knowledge.safety(of: "mtx_unlock") == .lock(.release))
  }

  @Test func userOverridesWin() throws {
    let knowledge = try Knowledge(
      overrides: KnowledgeOverrides(
        safe: ["printf": "our printf is a stub"], unsafe: ["write": "audited: wraps a lock"]))
    #expect(knowledge.safety(of: "printf") == .safe)
    #expect(knowledge.safety(of: "write") == .unsafe(reasons: ["audited: wraps a lock"]))
  }

  @Test func effectsOfProcessFunctions() throws {
    let knowledge = try Knowledge()
    #expect(knowledge.isVforkAllowed("execve"))
    #expect(!knowledge.isVforkAllowed("close"))
    #expect(knowledge.suggestion(for: "exit")?.contains("'_exit'") == true)
    if case .fork(.vfork) = knowledge.effect(of: "vfork") {} else { Issue.record("vfork") }
    if case .fork(.fork) = knowledge.effect(of: "_Fork") {} else { Issue.record("_Fork") }
    if case .exec = knowledge.effect(of: "execvp") {} else { Issue.record("execvp") }
    if case .exitProcess = knowledge.effect(of: "_exit") {} else { Issue.record("_exit") }
  }

  @Test func unknownFunctionsAreUnknown() throws {
    #expect(try Knowledge().safety(of: "vendor_reset") == .unknown)
  }

  @Test func missingDataFileIsAnErrorNamingIt() {
    #expect(throws: KnowledgeError.self) {
      _ = try Knowledge(dataDirectory: URL(fileURLWithPath: "/nonexistent"))
    }
  }
}
