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
    // Bytes and line starts, not `split` into Substrings: an edited buffer is compared on
    // every edit, and splitting by Characters and comparing Strings was most of the cost.
    let oldBytes = Array(old.utf8)
    let newBytes = Array(new.utf8)
    let oldStarts = Self.lineStarts(oldBytes)
    let newStarts = Self.lineStarts(newBytes)
    func line(_ bytes: [UInt8], _ starts: [Int], _ index: Int) -> Range<Int> {
      starts[index]..<(index + 1 < starts.count ? starts[index + 1] - 1 : bytes.count)
    }
    func same(_ oldLine: Int, _ newLine: Int) -> Bool {
      let a = line(oldBytes, oldStarts, oldLine)
      let b = line(newBytes, newStarts, newLine)
      return a.count == b.count && oldBytes[a].elementsEqual(newBytes[b])
    }
    let (oldCount, newCount) = (oldStarts.count, newStarts.count)
    var prefix = 0
    while prefix < oldCount, prefix < newCount, same(prefix, prefix) { prefix += 1 }
    var suffix = 0
    while suffix < oldCount - prefix, suffix < newCount - prefix,
      same(oldCount - 1 - suffix, newCount - 1 - suffix)
    {
      suffix += 1
    }
    self.prefix = prefix
    oldChangedEnd = oldCount - suffix
    newChangedEnd = newCount - suffix
    // The bytes of the first `count` lines, each with its line feed.
    func bytes(_ starts: [Int], _ total: Int, _ count: Int) -> Int { count < starts.count ? starts[count] : total + 1 }
    prefixBytes = bytes(oldStarts, oldBytes.count, prefix)
    oldSuffixByte = bytes(oldStarts, oldBytes.count, oldChangedEnd)
    newSuffixByte = bytes(newStarts, newBytes.count, newChangedEnd)
    fileName = file.split(separator: "/").last ?? Substring(file)
  }

  /// Where each line starts; as many as `split(separator: "\n")` keeping empty lines gives.
  private static func lineStarts(_ bytes: [UInt8]) -> [Int] {
    var starts = [0]
    for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") { starts.append(offset + 1) }
    return starts
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
