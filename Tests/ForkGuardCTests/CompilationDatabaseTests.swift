import ForkGuardTestSupport
import Foundation
import Testing

@testable import ForkGuardC

@Suite("Compilation database")
struct CompilationDatabaseTests {
  func database(_ json: String) throws -> CompilationDatabase {
    let path = Scratch.root.appendingPathComponent("fg-\(UUID().uuidString).json").path
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    return try CompilationDatabase(path: path)
  }

  @Test func argumentsForm() throws {
    let db = try database(
      #"[{"directory": "/src/build", "file": "../lib/a.c", "arguments": ["cc", "-Iinclude", "-DX=1", "-c", "-o", "a.o", "../lib/a.c"]}]"#
    )
    #expect(db.files == ["/src/lib/a.c"])
    #expect(db.parseArguments(for: "/src/lib/a.c") == ["-I/src/build/include", "-DX=1"])
  }

  @Test func commandFormWithQuotes() throws {
    let db = try database(
      #"[{"directory": "/p", "file": "/p/b.c", "command": "gcc -I /p/inc -DNAME=\"a b\" -include cfg.h -MD -MF b.d -c /p/b.c -o b.o"}]"#
    )
    #expect(db.parseArguments(for: "/p/b.c") == ["-I", "/p/inc", "-DNAME=a b", "-include", "/p/cfg.h"])
  }

  @Test func malformedDatabaseNamesTheFile() throws {
    #expect(throws: CompilationDatabase.LoadError.self) { try database(#"{"not": "a list"}"#) }
    #expect(throws: CompilationDatabase.LoadError.self) { try database(#"[{"file": "a.c"}]"#) }
  }

  @Test func shellWords() {
    #expect(ShellWords.split(#"cc 'a b' "c \"d\"" e\ f"#) == ["cc", "a b", #"c "d""#, "e f"])
  }
}
