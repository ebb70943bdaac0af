import ForkGuardCore
import Foundation

/// Phase 7 of a check, suppressions and baseline: `forkguard:ignore` comments, unused
/// suppressions when asked, writing a baseline, `--diff`, and accepting what a baseline
/// lists.
enum FindingFilters {
  struct Filtered {
    var findings: [Diagnostic]
    /// Problems in suppression comments, and unused suppressions.
    var notes: [Diagnostic] = []
    /// Findings the baseline accepted.
    var baselined = 0
  }

  static func apply(
    _ findings: [Diagnostic], files: [String], program: ProgramGraph?, options: CheckRun.Options
  ) throws -> Filtered {
    var result = Filtered(findings: findings)
    suppress(&result, files: files, options: options)
    func absolute(_ path: String) -> String {
      URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: options.base, isDirectory: true))
        .standardizedFileURL.path
    }
    // A replayed run has no program graph; it is never one that reads or writes a baseline
    // (RunCache.eligible).
    if let path = options.writeBaselinePath, let program {
      var keyer = BaselineKeyer(base: Baseline.projectRoot(of: absolute(path)), program: program)
      var counts: [Baseline.Entry: Int] = [:]
      for finding in result.findings { if let key = keyer.key(finding) { counts[key, default: 0] += 1 } }
      let entries = counts.map { key, count in
        var entry = key
        entry.count = count
        return entry
      }.sorted { ($0.file, $0.rule, $0.function, $0.text) < ($1.file, $1.rule, $1.function, $1.text) }
      do { try Baseline(version: Baseline.version, findings: entries).write(to: path) } catch {
        throw CheckRun.SetupError(description: "\(error)")
      }
    }
    if let revision = options.diffRevision {
      let changed: ChangedLines
      do { changed = try ChangedLines(since: revision, in: options.base) } catch {
        throw CheckRun.SetupError(description: "\(error)")
      }
      // A finding belongs to the change when its call or any step of its chain (any
      // context's) is on a changed line: editing a helper deep in the chain counts.
      result.findings = result.findings.filter { finding in
        let places =
          [finding.location] + finding.notes.map(\.location)
          + finding.otherContexts.flatMap { $0.notes.map(\.location) }
        return places.contains { changed.contains(file: $0.file, line: $0.line) }
      }
    }
    if let path = options.baselinePath, let program {
      let baseline: Baseline
      do { baseline = try Baseline.load(path: path) } catch { throw CheckRun.SetupError(description: "\(error)") }
      var keyer = BaselineKeyer(base: Baseline.projectRoot(of: absolute(path)), program: program)
      var remaining: [Baseline.Entry: Int] = [:]
      for entry in baseline.findings {
        var key = entry
        key.count = 1
        remaining[key, default: 0] += entry.count
      }
      var baselined = 0
      result.findings = result.findings.filter { finding in
        guard let key = keyer.key(finding), let left = remaining[key], left > 0 else { return true }
        remaining[key] = left - 1
        baselined += 1
        return false
      }
      result.baselined = baselined
    }
    return result
  }

  /// Suppressions in the analysed files and in any file a finding points into.
  private static func suppress(_ result: inout Filtered, files: [String], options: CheckRun.Options) {
    var suppressionFiles = Set(files)
    suppressionFiles.formUnion(result.findings.map(\.location.file))
    var suppressions: [Suppression] = []
    for file in suppressionFiles.sorted() {
      let buffer = options.unsavedFiles[file]
      let stamp = buffer == nil && options.session != nil ? FileStamp(file) : nil
      if buffer == nil, options.session?.holdsNoSuppression(file, stamp: stamp) == true { continue }
      // Most files hold no marker: look for its bytes before decoding any text.
      let bytes = buffer.map { Data($0.utf8) } ?? FileManager.default.contents(atPath: file)
      guard let bytes, SuppressionScanner.mayHoldMarker(bytes) else {
        if buffer == nil, bytes != nil { options.session?.noteNoSuppression(file, stamp: stamp) }
        continue
      }
      guard let text = buffer ?? String(data: bytes, encoding: .utf8), text.contains(SuppressionScanner.marker)
      else { continue }
      let scanned = SuppressionScanner.scan(file: file, text: text)
      suppressions += scanned.suppressions
      result.notes += scanned.problems
    }
    result.findings = result.findings.filter { finding in
      guard let index = suppressions.firstIndex(where: { $0.covers(finding) }) else { return true }
      suppressions[index].used = true
      return false
    }
    guard options.reportUnusedSuppressions else { return }
    for suppression in suppressions where !suppression.used {
      result.notes.append(
        Diagnostic(
          ruleID: "unused-suppression", severity: .warning, location: suppression.location,
          message:
            "suppression of '\(suppression.rules.sorted().joined(separator: ","))' matches no finding; remove it"))
    }
  }
}
