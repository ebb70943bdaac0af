import ForkGuardRuntime
import ForkGuardTestSupport
import Foundation
import Testing

/// Many threads of one process report at the same instant (fixtures/stress/report-hammer.c:
/// 32 threads of a fork child, 16 stuck locks each): every line of the log must be a whole
/// protocol line, every report one contiguous block from `begin` to `end`, and every lock
/// reported exactly once. `scripts/report-hammer.sh` makes the same check by hand.
@Suite("Reports from many threads at once", .serialized)
struct ReportHammerTests {
  static let threads = 32
  static let perThread = 16

  @Test("every line arrives whole", arguments: ["mode=default", "mode=track:frames=8"])
  func everyLineArrivesWhole(_ options: String) throws {
    let library = try #require(RuntimeFixtureTests.library, "build the preload library with scripts/build-preload.sh")
    let directory = Scratch.root.appendingPathComponent(
      "forkguard-report-hammer-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let binary = directory.appendingPathComponent("report-hammer").path
    let source = Fixture.root.appendingPathComponent("fixtures/stress/report-hammer.c").path
    let build = try Command.run(["cc", "-g", "-O0", "-pthread", "-o", binary, source])
    try #require(build.status == 0, Comment(rawValue: build.stderr))

    var environment = ProcessInfo.processInfo.environment
    environment["LD_PRELOAD"] = library
    environment["FORKGUARD_OPTIONS"] = "\(options):log_path=\(directory.path)/report"
    let run = try Command.run(
      ["/usr/bin/timeout", "120", binary, "\(Self.threads)", "\(Self.perThread)"], environment: environment)
    #expect(run.status == 0, "every trylock in the child fails with EBUSY: \(run.stderr)")

    var log = ""
    for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    where name.hasPrefix("report.") {
      log += try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }
    let check = ReportLogCheck(log)
    #expect(check.torn.isEmpty, Comment(rawValue: "torn lines:\n" + check.torn.prefix(5).joined(separator: "\n")))
    #expect(
      check.misplaced.isEmpty,
      Comment(rawValue: "lines out of place:\n" + check.misplaced.prefix(5).joined(separator: "\n")))

    let expected = Self.threads * Self.perThread
    let deadlocks = RuntimeReportParser.parse(log).filter { $0.rule == "runtime-child-deadlock" }
    #expect(check.blocks["runtime-child-deadlock"] == expected)
    #expect(deadlocks.count == expected)
    #expect(Set(deadlocks.compactMap { $0.fields["lock"] }).count == expected, "each lock reported once")
    let required = [
      "operation", "lock", "kind", "owner_tid", "blocking", "action", "fork", "forker_tid", "threads_at_fork",
    ]
    let incomplete = deadlocks.filter { report in
      required.contains { report.fields[$0] == nil } || report.frames["child"] == nil || report.frames["fork"] == nil
    }
    #expect(incomplete.isEmpty, "\(incomplete.count) reports without all their fields")
  }
}

/// The lines of a preload log, each checked as one of the protocol's forms (fg_report.c),
/// and their order: the human line, `begin` with the same rule, fields, frames, held locks
/// and their threads, `end`, all of one pid; map lines only between reports.
struct ReportLogCheck {
  /// Lines of no protocol form: pieces of several writes run together.
  var torn: [String] = []
  /// Lines of a protocol form out of their report's order.
  var misplaced: [String] = []
  /// Whole blocks, by rule.
  var blocks: [String: Int] = [:]

  enum Form { case human, begin, field, frame, held, thread, end, map }

  static let patterns: [(Form, NSRegularExpression)] =
    ([
      (.human, #"^==([0-9]+)== forkguard: ([a-z-]+): [^=]+$"#),
      (.begin, #"^==([0-9]+)== fg1 begin rule=([a-z-]+)$"#),
      (.field, #"^==([0-9]+)== fg1 field [a-z_]+=[^ ]*$"#),
      (.frame, #"^==([0-9]+)== fg1 frame who=[a-z_]+ n=[0-9]+ pc=0x[0-9a-f]+$"#),
      (.held, #"^==([0-9]+)== fg1 held tid=[0-9]+ kind=[a-z-]+ depth=[0-9]+ lock=0x[0-9a-f]+( pc=0x[0-9a-f]+)*$"#),
      (.thread, #"^==([0-9]+)== fg1 thread tid=[0-9]+ start=0x[0-9a-f]+ created=0x[0-9a-f]+ name=.*$"#),
      (.end, #"^==([0-9]+)== fg1 end$"#),
      (.map, #"^==([0-9]+)== fg1 map [0-9a-f]+-[0-9a-f]+ .*/.*$"#),
    ] as [(Form, String)]).map { ($0.0, try! NSRegularExpression(pattern: $0.1)) }

  init(_ log: String) {
    var lines = log.components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() } else if let last = lines.last { torn.append(last + " (no newline)") }
    enum State { case between, opened, inside }
    var state = State.between
    var rule = ""
    var pid = ""
    var broken = false
    for line in lines {
      guard let matched = Self.match(line) else {
        torn.append(line)
        broken = true
        continue
      }
      let (form, groups) = matched
      var inOrder = true
      switch form {
      case .human:
        inOrder = state == .between
        state = .opened
        pid = groups[0]
        rule = groups[1]
        broken = false
      case .begin:
        inOrder = state == .opened && groups[0] == pid && groups[1] == rule
        state = .inside
      case .field, .frame, .held, .thread:
        inOrder = state == .inside && groups[0] == pid
      case .map:
        inOrder = state == .between
      case .end:
        inOrder = state == .inside && groups[0] == pid
        if inOrder && !broken { blocks[rule, default: 0] += 1 }
        state = .between
      }
      if !inOrder {
        misplaced.append(line)
        broken = true
      }
    }
    if state != .between { misplaced.append("(the log ends inside a report)") }
  }

  static func match(_ line: String) -> (Form, [String])? {
    let range = NSRange(line.startIndex..., in: line)
    for (form, pattern) in patterns {
      guard let found = pattern.firstMatch(in: line, range: range) else { continue }
      let groups = (1..<found.numberOfRanges).compactMap { index in
        Range(found.range(at: index), in: line).map { String(line[$0]) }
      }
      return (form, groups)
    }
    return nil
  }
}
