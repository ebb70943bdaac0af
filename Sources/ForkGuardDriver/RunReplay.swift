import ForkGuardCore
import Foundation

/// The phase that can stand in for parsing, the program graph, the summaries and the rules:
/// the last run's outcome, when its record still holds (RunRecord).
enum RunReplay {
  struct Replayed {
    var outcome: RunRecord.Outcome
    /// Changed files whose facts were made again (and came out the same).
    var reparsed: Int
  }

  /// - Parameter record: the cache's record (`RunCache.load`), read once per check.
  static func outcome(
    of record: RunRecord?, _ cache: RunCache, inputs: CheckInputs, arguments: ParseArguments,
    configuration: LoadedConfiguration, options: CheckRun.Options
  ) -> Replayed? {
    guard let record, let changed = cache.changedFiles(record, inputs: inputs.files) else { return nil }
    if changed.isEmpty { return Replayed(outcome: record.outcome, reparsed: 0) }
    // A file the last run left unparsed may be needed now: only a whole run can tell. The
    // changed files' facts are made through the facts cache (and an editor buffer through
    // its kept preamble), so when they differ the whole run that follows finds them there.
    guard changed.allSatisfy({ record.parsed[$0] != nil }) else { return nil }
    let outcomes = FactsParsing.parse(
      changed.sorted(), jobs: options.jobs, knowledge: configuration.parsingKnowledge, unsaved: options.unsavedFiles,
      cache: FactsParsing.factsCache(options, configuration: configuration),
      editorUnits: options.session?.editorUnits, progress: nil, arguments: arguments.callAsFunction)
    var digests: [String: String] = [:]
    var shifts: [LineShift] = []
    for (_, result) in outcomes {
      guard case .success(let fileFacts) = result, let recordedFile = record.parsed[fileFacts.path] else {
        return nil
      }
      let recorded = recordedFile.digest
      // A call added or taken away: the facts differ, whatever the digest would say.
      if let calls = recordedFile.calls, calls != RunCache.callCount(fileFacts) { return nil }
      // An edited buffer's facts, in the lines its text had at the record.
      var shift: LineShift?
      if let old = record.texts[fileFacts.path], let new = cache.texts[fileFacts.path] {
        shift = LineShift(file: fileFacts.path, old: old, new: new)
      }
      guard RunCache.digest(fileFacts, moving: shift) == recorded else { return nil }
      // The next check compares with these facts in today's lines.
      if let shift {
        shifts.append(shift)
        digests[fileFacts.path] = RunCache.digest(fileFacts)
      } else {
        digests[fileFacts.path] = recorded
      }
    }
    guard let outcome = moved(record.outcome, by: shifts) else { return nil }
    // Today's stamps, texts and places, so the next check compares with these.
    if let updated = cache.updated(record, digests: digests, outcome: outcome) { cache.store(updated) }
    return Replayed(outcome: outcome, reparsed: changed.count)
  }

  /// The outcome with its places in the buffers' new lines.
  private static func moved(_ outcome: RunRecord.Outcome, by shifts: [LineShift]) -> RunRecord.Outcome? {
    guard !shifts.isEmpty else { return outcome }
    func move(_ place: SourceLocation) -> SourceLocation? {
      var place: SourceLocation? = place
      for shift in shifts { place = place.flatMap(shift.forward) }
      return place
    }
    var moved = outcome
    moved.findings = []
    for finding in outcome.findings {
      guard let relocated = finding.relocated(move) else { return nil }
      moved.findings.append(relocated)
    }
    moved.notes = []
    for note in outcome.notes {
      guard let relocated = note.relocated(move) else { return nil }
      moved.notes.append(relocated)
    }
    return moved
  }
}
