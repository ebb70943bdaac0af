import ForkGuardCore

/// Where an edit moved a buffer's lines: the lines before the first changed one keep their
/// numbers, those after the last changed one move by the change in length, and the changed
/// lines themselves have no place in the other text. A run record uses it to compare an
/// edited buffer's facts with the facts of its text before the edit, and to move the
/// findings it replays (RunReplay).
struct LineShift {
  let file: String
  /// Lines, from the first, that both texts share.
  let prefix: Int
  /// The last line of each text before the lines both share at the end.
  let oldChangedEnd: Int
  let newChangedEnd: Int

  init(file: String, old: String, new: String) {
    self.file = file
    let oldLines = Self.lines(old)
    let newLines = Self.lines(new)
    var prefix = 0
    while prefix < oldLines.count, prefix < newLines.count, oldLines[prefix] == newLines[prefix] { prefix += 1 }
    var suffix = 0
    while suffix < oldLines.count - prefix, suffix < newLines.count - prefix,
      oldLines[oldLines.count - 1 - suffix] == newLines[newLines.count - 1 - suffix]
    {
      suffix += 1
    }
    self.prefix = prefix
    oldChangedEnd = oldLines.count - suffix
    newChangedEnd = newLines.count - suffix
  }

  private static func lines(_ text: String) -> [Substring] {
    text.split(separator: "\n", omittingEmptySubsequences: false)
  }

  /// A line of the old text in the new one.
  func forward(_ line: Int) -> Int? {
    if line <= prefix { return line }
    if line > oldChangedEnd { return line + newChangedEnd - oldChangedEnd }
    return nil
  }

  /// A line of the new text in the old one.
  func backward(_ line: Int) -> Int? {
    if line <= prefix { return line }
    if line > newChangedEnd { return line - newChangedEnd + oldChangedEnd }
    return nil
  }

  func forward(_ location: SourceLocation) -> SourceLocation? { move(location, by: forward) }
  func backward(_ location: SourceLocation) -> SourceLocation? { move(location, by: backward) }

  private func move(_ location: SourceLocation, by map: (Int) -> Int?) -> SourceLocation? {
    guard location.file == file else { return location }
    guard let line = map(location.line) else { return nil }
    return SourceLocation(file: file, line: line, column: location.column)
  }
}

extension Diagnostic {
  /// The same finding with every place moved; nil when one has no place.
  func relocated(_ move: (SourceLocation) -> SourceLocation?) -> Diagnostic? {
    var moved = self
    guard let location = move(location) else { return nil }
    moved.location = location
    func notes(_ notes: [DiagnosticNote]) -> [DiagnosticNote]? {
      var result: [DiagnosticNote] = []
      for note in notes {
        guard let place = move(note.location) else { return nil }
        result.append(DiagnosticNote(location: place, message: note.message))
      }
      return result
    }
    guard let movedNotes = notes(self.notes) else { return nil }
    moved.notes = movedNotes
    moved.otherContexts = []
    for context in otherContexts {
      guard let contextNotes = notes(context.notes) else { return nil }
      moved.otherContexts.append(DiagnosticContext(context: context.context, notes: contextNotes))
    }
    return moved
  }
}
