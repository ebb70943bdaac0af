import Foundation

/// One report the preload library wrote: the `fg1` lines between `begin` and `end`.
public struct RuntimeReport: Equatable, Sendable {
  public var rule: String
  public var pid: Int
  public var fields: [String: String]
  /// Return addresses by role: `child`, `owner`, `fork`, `owner_created`.
  public var frames: [String: [UInt64]]
  /// The process's file-backed mappings, for symbolizing after it is gone.
  public var maps: [MemoryMapping]
  /// An interpreter's stack by role (`python`), innermost first: CPython's own traceback.
  public var sources: [String: [SourceFrame]] = [:]
  /// Track mode at a fork: every lock other threads held, and those threads.
  public var held: [HeldLock] = []
  public var threads: [Int: ThreadInfo] = [:]

  public func number(_ key: String) -> Int? { fields[key].flatMap { Int($0) } }
  public func address(_ key: String) -> UInt64? { fields[key].flatMap(RuntimeReport.parseHex) }

  static func parseHex(_ text: String) -> UInt64? {
    text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : nil
  }
}

/// `fg1 held tid=4242 kind=mutex depth=1 lock=0x… pc=0x… pc=0x…`
public struct HeldLock: Equatable, Sendable {
  public var tid: Int
  public var kind: String
  public var depth: Int
  public var lock: UInt64
  public var frames: [UInt64]
}

/// `fg1 thread tid=4242 start=0x… created=0x… name=worker`
public struct ThreadInfo: Equatable, Sendable {
  public var start: UInt64
  public var created: UInt64
  public var name: String
}

/// One frame of an interpreter's stack: `fg1 source who=python n=0 line=12 function=worker file=/srv/app.py`.
public struct SourceFrame: Equatable, Sendable {
  public var file: String
  public var line: Int
  public var function: String
}

/// A line of /proc/PID/maps with a file behind it.
public struct MemoryMapping: Equatable, Sendable {
  public var start: UInt64
  public var end: UInt64
  public var offset: UInt64
  public var path: String

  /// `55d3e57e2000-55d3e57e3000 r-xp 00001000 fe:00 16222072   /tmp/r1`
  init?(line: Substring) {
    let parts = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
    guard parts.count == 6 else { return nil }
    let range = parts[0].split(separator: "-")
    guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16),
      let offset = UInt64(parts[2], radix: 16)
    else { return nil }
    self.start = start
    self.end = end
    self.offset = offset
    self.path = parts[5].trimmingCharacters(in: .whitespaces)
  }
}

public enum RuntimeReportParser {
  /// Reads every report in a log; lines that are not the library's are ignored, a report
  /// cut short (the process died mid-write) is dropped.
  public static func parse(_ text: String) -> [RuntimeReport] {
    var stream = RuntimeReportStream()
    let reports = stream.consume(text)
    // A log written by an older library has a process's mappings after its first report.
    return reports.map { report in
      var report = report
      if report.maps.isEmpty { report.maps = stream.mapsByPid[report.pid] ?? [] }
      return report
    }
  }
}

/// Reports as they arrive, a datagram or a chunk of whole lines at a time: each process's
/// report is built from its own lines (processes report at once), and is complete at its
/// `end` line, with the process's mappings, which the library writes before its first report.
public struct RuntimeReportStream: Sendable {
  private var current: [Int: RuntimeReport] = [:]
  private(set) var mapsByPid: [Int: [MemoryMapping]] = [:]

  public init() {}

  /// The reports whose last line is in `text`.
  public mutating func consume(_ text: String) -> [RuntimeReport] {
    var reports: [RuntimeReport] = []
    for line in text.split(separator: "\n") {
      guard line.hasPrefix("=="), let close = line.dropFirst(2).range(of: "== fg1 ") else { continue }
      guard let pid = Int(line[line.index(line.startIndex, offsetBy: 2)..<close.lowerBound]) else { continue }
      let body = line[close.upperBound...]
      let (verb, rest) = Self.split(body)
      switch verb {
      case "begin":
        let rule = rest.hasPrefix("rule=") ? String(rest.dropFirst(5)) : String(rest)
        current[pid] = RuntimeReport(rule: rule, pid: pid, fields: [:], frames: [:], maps: [])
      case "field":
        guard let equals = rest.firstIndex(of: "=") else { continue }
        current[pid]?.fields[String(rest[..<equals])] = String(rest[rest.index(after: equals)...])
      case "frame":
        var who = ""
        var pc: UInt64?
        for word in rest.split(separator: " ") {
          if word.hasPrefix("who=") { who = String(word.dropFirst(4)) }
          if word.hasPrefix("pc=") { pc = RuntimeReport.parseHex(String(word.dropFirst(3))) }
        }
        if let pc { current[pid]?.frames[who, default: []].append(pc) }
      case "source":
        // The file is last: it may hold spaces.
        guard let fileStart = rest.range(of: " file=") else { continue }
        var who = ""
        var line = 0
        var function = ""
        for word in rest[..<fileStart.lowerBound].split(separator: " ") {
          if word.hasPrefix("who=") { who = String(word.dropFirst(4)) }
          if word.hasPrefix("line=") { line = Int(word.dropFirst(5)) ?? 0 }
          if word.hasPrefix("function=") { function = String(word.dropFirst(9)) }
        }
        current[pid]?.sources[who, default: []].append(
          SourceFrame(file: String(rest[fileStart.upperBound...]), line: line, function: function))
      case "held":
        var held = HeldLock(tid: 0, kind: "mutex", depth: 1, lock: 0, frames: [])
        for word in rest.split(separator: " ") {
          guard let equals = word.firstIndex(of: "=") else { continue }
          let value = word[word.index(after: equals)...]
          switch word[..<equals] {
          case "tid": held.tid = Int(value) ?? 0
          case "kind": held.kind = String(value)
          case "depth": held.depth = Int(value) ?? 1
          case "lock": held.lock = RuntimeReport.parseHex(String(value)) ?? 0
          case "pc": if let pc = RuntimeReport.parseHex(String(value)) { held.frames.append(pc) }
          default: continue
          }
        }
        current[pid]?.held.append(held)
      case "thread":
        // The name is last: it may hold spaces.
        guard let nameStart = rest.range(of: " name=") else { continue }
        var tid = 0
        var info = ThreadInfo(start: 0, created: 0, name: String(rest[nameStart.upperBound...]))
        for word in rest[..<nameStart.lowerBound].split(separator: " ") {
          if word.hasPrefix("tid=") { tid = Int(word.dropFirst(4)) ?? 0 }
          if word.hasPrefix("start=") { info.start = RuntimeReport.parseHex(String(word.dropFirst(6))) ?? 0 }
          if word.hasPrefix("created=") { info.created = RuntimeReport.parseHex(String(word.dropFirst(8))) ?? 0 }
        }
        current[pid]?.threads[tid] = info
      case "end":
        if var report = current.removeValue(forKey: pid) {
          report.maps = mapsByPid[pid] ?? []
          reports.append(report)
        }
      case "map":
        if let mapping = MemoryMapping(line: rest) { mapsByPid[pid, default: []].append(mapping) }
      default:
        continue
      }
    }
    return reports
  }

  private static func split(_ text: Substring) -> (Substring, Substring) {
    guard let space = text.firstIndex(of: " ") else { return (text, "") }
    return (text[..<space], text[text.index(after: space)...])
  }
}
