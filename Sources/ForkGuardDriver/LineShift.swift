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
  /// The same in UTF-8 bytes: where the shared first lines end, and where each text's
  /// shared last lines start. clang's USR of an anonymous struct or a local variable holds
  /// the byte offset of its declaration (`c:@S@sshd.c@6135@FI@host_keys`).
  let prefixBytes: Int
  let oldSuffixByte: Int
  let newSuffixByte: Int
  let fileName: Substring

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
    func bytes(_ lines: ArraySlice<Substring>) -> Int { lines.reduce(0) { $0 + $1.utf8.count + 1 } }
    prefixBytes = bytes(oldLines[..<prefix])
    oldSuffixByte = bytes(oldLines[..<oldChangedEnd])
    newSuffixByte = bytes(newLines[..<newChangedEnd])
    fileName = file.split(separator: "/").last ?? Substring(file)
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

  /// A byte offset of the new text in the old one.
  func backward(byte offset: Int) -> Int? {
    if offset < prefixBytes { return offset }
    if offset >= newSuffixByte { return offset - newSuffixByte + oldSuffixByte }
    return nil
  }

  /// A symbol of the new text as the old text spelt it: each `<file name>@<offset>@` moved;
  /// nil when one lies in the changed lines.
  func backward(symbol: String) -> String? {
    let marker = fileName + "@"
    guard symbol.contains(marker) else { return symbol }
    var result = ""
    var rest = Substring(symbol)
    while let range = rest.range(of: marker) {
      result += rest[..<range.upperBound]
      rest = rest[range.upperBound...]
      let digits = rest.prefix { $0.isASCII && $0.isNumber }
      guard !digits.isEmpty, rest.dropFirst(digits.count).first == "@", let offset = Int(digits) else { continue }
      guard let moved = backward(byte: offset) else { return nil }
      result += String(moved)
      rest = rest.dropFirst(digits.count)
    }
    return result + rest
  }

  func forward(_ location: SourceLocation) -> SourceLocation? { move(location, by: forward) }
  func backward(_ location: SourceLocation) -> SourceLocation? { move(location) { backward($0) } }

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
