import ForkGuardTestSupport
import Foundation
import XCTest

/// What editors and CI read: the text output through VS Code's `$gcc` matcher, the shipped
/// problem matcher, Vim's default errorformat in a real Neovim, and the language server
/// through pytest-lsp with real editors' capabilities.
final class EditorIntegrationTests: XCTestCase {
  static let root = CLITests.root

  func demoOutput() throws -> String {
    let run = try CLITests.forkguard(["check", "examples/demo"])
    XCTAssertEqual(run.status, 1)
    return run.stdout
  }

  func testVSCodeGccMatcherReadsEveryFinding() throws {
    let output = try demoOutput()
    let gcc = try NSRegularExpression(pattern: #"^(.*?):(\d+):(\d*):?\s+(?:fatal\s+)?(warning|error):\s+(.*)$"#)
    let findings = output.split(separator: "\n").filter { $0.contains(": warning: ") || $0.contains(": error: ") }
    XCTAssertGreaterThan(findings.count, 5)
    for line in findings.map(String.init) {
      let match = try XCTUnwrap(gcc.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)), line)
      let file = String(line[Range(match.range(at: 1), in: line)!])
      XCTAssertEqual(file, "examples/demo/demo.c")
      XCTAssertNotNil(Int(line[Range(match.range(at: 2), in: line)!]))
    }
  }

  func testShippedProblemMatcherCapturesTheRuleId() throws {
    let data = try Data(contentsOf: Self.root.appendingPathComponent("docs/problem-matchers/forkguard.json"))
    let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let matcher = try XCTUnwrap((json["problemMatcher"] as? [[String: Any]])?.first)
    let pattern = try XCTUnwrap((matcher["pattern"] as? [String: Any])?["regexp"] as? String)
    let regex = try NSRegularExpression(pattern: pattern)
    let lines = try demoOutput().split(separator: "\n").map(String.init)
    var codes = Set<String>()
    for line in lines {
      let match = try XCTUnwrap(regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)), line)
      if let range = Range(match.range(at: 6), in: line) { codes.insert(String(line[range])) }
    }
    XCTAssert(codes.isSuperset(of: ["fork-child-unsafe-call", "vfork-child", "lock-held-across-fork"]), "\(codes)")
  }

  func testVimDefaultErrorformatReadsEveryLine() throws {
    let directory = Scratch.root.appendingPathComponent("fg-vim-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let output = try demoOutput()
    let input = directory.appendingPathComponent("out.txt")
    let list = directory.appendingPathComponent("qf.txt")
    try output.write(to: input, atomically: true, encoding: .utf8)
    let nvim = try Command.run(
      [
        "nvim", "--headless", "--clean", "-c", "cgetfile \(input.path)", "-c",
        #"call writefile(map(getqflist(), {_, e -> bufname(e.bufnr) . "|" . e.lnum . "|" . e.col . "|" . e.valid}), ""#
          + list.path + #"")"#, "-c", "qa!",
      ], in: Self.root)
    XCTAssertEqual(nvim.status, 0, nvim.stderr)
    let entries = try String(contentsOf: list, encoding: .utf8).split(separator: "\n")
    let lines = output.split(separator: "\n")
    XCTAssertEqual(entries.count, lines.count)
    for (entry, line) in zip(entries, lines) {
      let fields = entry.split(separator: "|")
      XCTAssertEqual(fields[0], "examples/demo/demo.c")
      XCTAssertEqual(fields[3], "1", "not a valid quickfix entry: \(line)")
      XCTAssert(line.hasPrefix("\(fields[0]):\(fields[1]):\(fields[2]):"), "\(entry) vs \(line)")
    }
  }

  func testLanguageServerWithPytestLSP() throws {
    var environment = ProcessInfo.processInfo.environment
    environment["FORKGUARD_BINARY"] = CLITests.binary.path
    environment["PYTHONPATH"] = Self.root.appendingPathComponent(".build/python-packages").path
    let python = try Command.run(
      ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "Tests/lsp"], in: Self.root, environment: environment)
    XCTAssertEqual(python.status, 0, python.stdout + python.stderr)
    XCTAssert(python.stdout.contains("15 passed"), python.stdout)
  }
}
