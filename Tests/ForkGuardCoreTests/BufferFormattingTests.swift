import ForkGuardCore
import Foundation
import Testing

/// Which literal formats glibc's snprintf family handles on the stack, without a lock or an
/// allocation (rules/data/glibc-formatting.json).
@Suite("Buffer formatting")
struct BufferFormattingTests {
  static func call(_ name: String, format: String?, at index: Int) -> CallSite {
    var call = CallSite(
      callee: name, symbol: "c:@F@\(name)", location: SourceLocation(file: "a.c", line: 1, column: 1))
    if let format { call.argumentValues[index] = .string(format) }
    return call
  }

  @Test(
    "lock-free formats",
    arguments: [
      "", "plain text", "%d", "%s: %s\n", "%-8.3s|%5lu|%#x|%p|%c|%%", "%.*s", "%*d", "%lld %llu %zu %zd %jd %td",
      "%hhx %hu %08X %+d % d", "<%d>%.15s %s", "%Zu", "%qd",
    ])
  func lockFree(_ format: String) throws {
    let knowledge = try Knowledge()
    let call = Self.call("snprintf", format: format, at: 2)
    #expect(knowledge.isSafeOnlyByGlibc(call))
    guard case .unsafe(let reasons) = knowledge.safety(of: call) else {
      Issue.record("\(format) should stay a (note-severity) finding in posix-2024")
      return
    }
    #expect(reasons.first?.contains("into the caller's buffer without a lock or an allocation") == true)
    #expect(try Knowledge(profile: .glibc).safety(of: call) == .safe)
  }

  @Test(
    "formats that lock, translate or allocate",
    arguments: [
      "%m", "error: %m", "%f", "%.2e", "%g", "%a", "%Lf", "%ls", "%lc", "%S", "%C", "%2$s %1$s", "%*1$d",
      "%.*2$s", "%'d", "%Id", "%n", "%", "%l", "%y",
    ])
  func notLockFree(_ format: String) throws {
    let knowledge = try Knowledge()
    let call = Self.call("snprintf", format: format, at: 2)
    #expect(!knowledge.isSafeOnlyByGlibc(call))
    #expect(knowledge.safety(of: call) == knowledge.safety(of: "snprintf"))
  }

  @Test func theFormatArgumentDependsOnTheFunction() throws {
    let knowledge = try Knowledge()
    #expect(knowledge.isSafeOnlyByGlibc(Self.call("sprintf", format: "%d", at: 1)))
    #expect(knowledge.isSafeOnlyByGlibc(Self.call("__snprintf_chk", format: "%d", at: 4)))
    #expect(knowledge.isSafeOnlyByGlibc(Self.call("__sprintf_chk", format: "%d", at: 3)))
    // The format in the wrong position, a format that is not a literal, and printf to a
    // stream (which takes the stream's lock) are judged by name.
    #expect(!knowledge.isSafeOnlyByGlibc(Self.call("snprintf", format: "%d", at: 1)))
    #expect(!knowledge.isSafeOnlyByGlibc(Self.call("vsnprintf", format: nil, at: 2)))
    #expect(!knowledge.isSafeOnlyByGlibc(Self.call("fprintf", format: "%d", at: 1)))
    #expect(!knowledge.isSafeOnlyByGlibc(Self.call("printf", format: "%d", at: 0)))
  }

  @Test func aUserListingTheFunctionUnsafeWins() throws {
    let knowledge = try Knowledge(overrides: KnowledgeOverrides(unsafe: ["snprintf": "project rule"]))
    let call = Self.call("snprintf", format: "%d", at: 2)
    #expect(!knowledge.isSafeOnlyByGlibc(call))
    #expect(knowledge.safety(of: call) == .unsafe(reasons: ["project rule"]))
  }

  @Test func heapOnlyCallsAreTheAllocatorsAndWhatOnlyAllocates() throws {
    let knowledge = try Knowledge()
    for name in ["malloc", "free", "realloc", "calloc", "strdup", "opendir", "closedir", "asprintf"] {
      #expect(knowledge.isHeapOnly(Self.call(name, format: nil, at: 0)), "\(name)")
    }
    for name in ["fprintf", "exit", "setenv", "syslog", "strerror", "readdir", "snprintf", "vsnprintf", "fopen"] {
      #expect(!knowledge.isHeapOnly(Self.call(name, format: nil, at: 0)), "\(name)")
    }
    #expect(knowledge.resetsHeapInChild("fork"))
    #expect(!knowledge.resetsHeapInChild("_Fork"))
    #expect(!knowledge.resetsHeapInChild("vfork"))
  }

  @Test func stringArgumentsRoundTripThroughTheFactsEncoding() throws {
    let call = Self.call("snprintf", format: "%s: \"quoted\" \u{1}\n", at: 2)
    #expect(ArgumentValue.string("ab").knownBytes == [0: 97, 1: 98, 2: 0])
    let function = FunctionFacts(
      symbol: "c:@F@f", name: "f", location: call.location, calls: [call], nonLocalWrites: [])
    let facts = FileFacts(path: "a.c", functions: [function])
    let decoded = try FactsCoding.decode(FactsCoding.encode([facts]))
    #expect(decoded.first?.functions.first?.calls.first?.argumentValues[2] == .string("%s: \"quoted\" \u{1}\n"))
  }
}
