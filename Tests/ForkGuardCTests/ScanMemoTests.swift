import ForkGuardC
import ForkGuardTestSupport
import Foundation
import Testing

/// The language server keeps the index of its scans between checks: it must be the one a
/// fresh build gives whenever anything it read, or any folder an include was looked for
/// in, has changed.
@Suite("Kept scans and index")
struct ScanMemoTests {
  @Test func aKeptIndexIsReusedUntilWhatItReadChanges() throws {
    let folder = Scratch.root.appendingPathComponent("fg-scan-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let main = folder.appendingPathComponent("main.c").path
    let header = folder.appendingPathComponent("extra.h").path
    try "#include \"extra.h\"\nint main(void) { return 0; }\n".write(toFile: main, atomically: true, encoding: .utf8)
    // Stamps older than the check: a folder changed while an index is built keeps nothing.
    func age(_ paths: String...) throws {
      for path in paths {
        try FileManager.default.setAttributes(
          [.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: path)
      }
    }
    try age(main, folder.path)
    let memo = ScanMemo()
    let units = [CSourceIndex.Unit(file: main, arguments: [])]
    let first = memo.index(units: units, unsaved: [:])
    #expect(first.units(mentioning: "helper").isEmpty)
    #expect(memo.index(units: units, unsaved: [:]) === first)
    // Other flags are another index.
    let flagged = memo.index(units: [CSourceIndex.Unit(file: main, arguments: ["-DX"])], unsaved: [:])
    #expect(flagged !== first)

    // A header created where the include was looked for.
    try "void helper(void);\n".write(toFile: header, atomically: true, encoding: .utf8)
    let created = memo.index(units: units, unsaved: [:])
    #expect(created.units(mentioning: "helper") == [0])
    try age(header, folder.path)
    let kept = memo.index(units: units, unsaved: [:])
    #expect(memo.index(units: units, unsaved: [:]) === kept)

    // The header edited, on disk and then in an editor buffer.
    try "void other(void);\n".write(toFile: header, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -1800)], ofItemAtPath: header)
    let edited = memo.index(units: units, unsaved: [:])
    #expect(edited !== kept && edited.units(mentioning: "helper").isEmpty && edited.units(mentioning: "other") == [0])
    let buffer = memo.index(units: units, unsaved: [header: "void buffered(void);\n"])
    #expect(buffer.units(mentioning: "buffered") == [0])
    #expect(memo.index(units: units, unsaved: [header: "void typed(void);\n"]).units(mentioning: "typed") == [0])
  }
}
