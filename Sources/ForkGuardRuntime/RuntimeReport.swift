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

  public func number(_ key: String) -> Int? { fields[key].flatMap { Int($0) } }
  public func address(_ key: String) -> UInt64? { fields[key].flatMap(RuntimeReport.parseHex) }

  static func parseHex(_ text: String) -> UInt64? {
    text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : nil
  }
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
    var reports: [RuntimeReport] = []
    var current: RuntimeReport?
    var mapsByPid: [Int: [MemoryMapping]] = [:]
    for line in text.split(separator: "\n") {
      guard line.hasPrefix("=="), let close = line.dropFirst(2).range(of: "== fg1 ") else { continue }
      guard let pid = Int(line[line.index(line.startIndex, offsetBy: 2)..<close.lowerBound]) else { continue }
      let body = line[close.upperBound...]
      let (verb, rest) = split(body)
      switch verb {
      case "begin":
        let rule = rest.hasPrefix("rule=") ? String(rest.dropFirst(5)) : String(rest)
        current = RuntimeReport(rule: rule, pid: pid, fields: [:], frames: [:], maps: [])
      case "field":
        guard let equals = rest.firstIndex(of: "=") else { continue }
        current?.fields[String(rest[..<equals])] = String(rest[rest.index(after: equals)...])
      case "frame":
        var who = ""
        var pc: UInt64?
        for word in rest.split(separator: " ") {
          if word.hasPrefix("who=") { who = String(word.dropFirst(4)) }
          if word.hasPrefix("pc=") { pc = RuntimeReport.parseHex(String(word.dropFirst(3))) }
        }
        if let pc { current?.frames[who, default: []].append(pc) }
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
        current?.sources[who, default: []].append(
          SourceFrame(file: String(rest[fileStart.upperBound...]), line: line, function: function))
      case "end":
        if let report = current, report.pid == pid { reports.append(report) }
        current = nil
      case "map":
        if let mapping = MemoryMapping(line: rest) { mapsByPid[pid, default: []].append(mapping) }
      default:
        continue
      }
    }
    return reports.map { report in
      var report = report
      report.maps = mapsByPid[report.pid] ?? []
      return report
    }
  }

  private static func split(_ text: Substring) -> (Substring, Substring) {
    guard let space = text.firstIndex(of: " ") else { return (text, "") }
    return (text[..<space], text[text.index(after: space)...])
  }
}
