import ForkGuardCore
import ForkGuardDriver
import ForkGuardRules
import Foundation

/// `forkguard lsp`: diagnostics for C files as they are opened, edited and saved, with the
/// call chain as related information and a quick fix that inserts a suppression comment.
public final class LanguageServer {
  private let connection: JSONRPCConnection
  private var encoding = TextPositions.Encoding.utf16
  private var roots: [String] = []
  private var documents: [String: String] = [:]  // path -> text
  private var published = Set<String>()
  private var shutdownRequested = false
  /// Scans, facts and suppression lookups kept between analyses: an edit re-reads only
  /// what changed.
  private let session = CheckSession()
  private let documentationBase = "https://github.com/forkguard/forkguard/blob/main/docs/rules/"

  private let analysis: (CheckRun.Options) throws -> CheckRun.Result

  /// - Parameter analysis: runs one check (tests and the fuzz harness keep it to a scratch
  ///   folder).
  public init(
    input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO,
    analysis: @escaping (CheckRun.Options) throws -> CheckRun.Result = CheckRun.run
  ) {
    connection = JSONRPCConnection(input: input, output: output)
    self.analysis = analysis
  }

  /// Serves until `exit`; returns the process exit status LSP asks for.
  public func serve() -> Int32 {
    while let message = connection.receive() {
      let method = message["method"] as? String
      let id = message["id"]
      let params = message["params"] as? [String: Any] ?? [:]
      switch method {
      case "initialize":
        respond(id, initialize(params))
      case "initialized", "$/cancelRequest", "$/setTrace", "workspace/didChangeConfiguration":
        break
      case "shutdown":
        shutdownRequested = true
        respond(id, NSNull())
      case "exit":
        return shutdownRequested ? 0 : 1
      case "textDocument/didOpen":
        if let document = params["textDocument"] as? [String: Any], let path = path(document["uri"]),
          let text = document["text"] as? String
        {
          documents[path] = text
          analyse()
        }
      case "textDocument/didChange":
        if let document = params["textDocument"] as? [String: Any], let path = path(document["uri"]),
          let change = (params["contentChanges"] as? [[String: Any]])?.last, let text = change["text"] as? String
        {
          documents[path] = text
          analyse()
        }
      case "textDocument/didSave":
        if let document = params["textDocument"] as? [String: Any], let path = path(document["uri"]) {
          if let text = params["text"] as? String { documents[path] = text }
          analyse()
        }
      case "textDocument/didClose":
        if let document = params["textDocument"] as? [String: Any], let path = path(document["uri"]) {
          documents[path] = nil
          analyse()
        }
      case "textDocument/codeAction":
        respond(id, codeActions(params))
      default:
        if let id {
          connection.send(["id": id, "error": ["code": -32601, "message": "method not found: \(method ?? "?")"]])
        }
      }
    }
    return 1
  }

  private func respond(_ id: Any?, _ result: Any) {
    guard let id else { return }
    connection.send(["id": id, "result": result])
  }

  private func initialize(_ params: [String: Any]) -> [String: Any] {
    let general = (params["capabilities"] as? [String: Any])?["general"] as? [String: Any]
    let offered = general?["positionEncodings"] as? [String] ?? []
    encoding = offered.contains("utf-8") ? .utf8 : .utf16
    if let folders = params["workspaceFolders"] as? [[String: Any]] {
      roots = folders.compactMap { path($0["uri"]) }
    }
    if roots.isEmpty, let root = path(params["rootUri"]) ?? (params["rootPath"] as? String) { roots = [root] }
    return [
      "capabilities": [
        "positionEncoding": encoding.rawValue,
        "textDocumentSync": ["openClose": true, "change": 1, "save": ["includeText": true]],
        "codeActionProvider": ["codeActionKinds": ["quickfix"]],
      ],
      "serverInfo": ["name": "forkguard"],
    ]
  }

  private func path(_ uri: Any?) -> String? {
    guard let text = uri as? String, let url = URL(string: text), url.isFileURL else { return nil }
    return url.standardizedFileURL.path
  }

  private func uri(_ path: String) -> String { URL(fileURLWithPath: path).absoluteString }

  // MARK: Analysis

  /// Analyses the workspace (or the open files' folders) with the open buffers' text and
  /// publishes every file's diagnostics, clearing those that became clean.
  private func analyse() {
    let paths = roots.isEmpty ? Array(Set(documents.keys.map { ($0 as NSString).deletingLastPathComponent })) : roots
    guard !paths.isEmpty else { return }
    var options = CheckRun.Options(paths: paths.sorted(), base: roots.first ?? paths[0])
    options.unsavedFiles = documents
    options.session = session
    if ProcessInfo.processInfo.environment["FORKGUARD_LSP_TIMINGS"] != nil {
      options.timings = { name, seconds in
        FileHandle.standardError.write(Data("forkguard lsp: \(name) \(String(format: "%.3f", seconds)) s\n".utf8))
      }
    }
    options.jobs = ProcessInfo.processInfo.activeProcessorCount
    let started = Date()
    var byFile: [String: [Diagnostic]] = [:]
    do {
      let result = try analysis(options)
      options.timings?("check", Date().timeIntervalSince(started))
      for diagnostic in result.diagnostics { byFile[diagnostic.location.file, default: []].append(diagnostic) }
    } catch {
      connection.send([
        "method": "window/showMessage", "params": ["type": 1, "message": "forkguard: \(error)"],
      ])
      return
    }
    // The open files first: they are what the user is looking at (and waits for).
    let files = Set(byFile.keys).union(published).sorted {
      (documents[$0] == nil ? 1 : 0, $0) < (documents[$1] == nil ? 1 : 0, $1)
    }
    positions = [:]
    for file in files {
      let diagnostics = byFile[file] ?? []
      connection.send([
        "method": "textDocument/publishDiagnostics",
        "params": ["uri": uri(file), "diagnostics": diagnostics.map(lspDiagnostic)],
      ])
      if file == files.first { options.timings?("first publication", Date().timeIntervalSince(started)) }
    }
    options.timings?("all publications", Date().timeIntervalSince(started))
    positions = [:]
    published = Set(byFile.keys)
  }

  /// Each file's line table, made once per publication (a file's every diagnostic and note
  /// needs it; making it again each time was a twentieth of an edit's analysis on sshd.c).
  private var positions: [String: TextPositions] = [:]

  private func textPositions(_ file: String) -> TextPositions {
    if let known = positions[file] { return known }
    let made = TextPositions(text: text(of: file), encoding: encoding)
    positions[file] = made
    return made
  }

  private func text(of file: String) -> String {
    documents[file] ?? (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
  }

  private func range(_ location: SourceLocation) -> [String: Any] {
    let positions = textPositions(location.file)
    let line = max(location.line, 1)
    let column = max(location.column, 1)
    return [
      "start": ["line": line - 1, "character": positions.character(line: line, byteColumn: column)],
      "end": [
        "line": line - 1,
        "character": positions.character(line: line, byteColumn: positions.wordEnd(line: line, byteColumn: column)),
      ],
    ]
  }

  private func lspDiagnostic(_ diagnostic: Diagnostic) -> [String: Any] {
    var result: [String: Any] = [
      "range": range(diagnostic.location),
      "severity": diagnostic.severity == .error ? 1 : diagnostic.severity == .warning ? 2 : 3,
      "source": "forkguard",
      "message": diagnostic.message,
    ]
    if let rule = diagnostic.ruleID {
      result["code"] = rule
      result["codeDescription"] = ["href": documentationBase + rule + ".md"]
    }
    if !diagnostic.notes.isEmpty {
      result["relatedInformation"] = diagnostic.notes.map { note in
        ["location": ["uri": uri(note.location.file), "range": range(note.location)], "message": note.message]
      }
    }
    return result
  }

  // MARK: Quick fixes

  private func codeActions(_ params: [String: Any]) -> [[String: Any]] {
    guard let document = params["textDocument"] as? [String: Any], let path = path(document["uri"]),
      let diagnostics = (params["context"] as? [String: Any])?["diagnostics"] as? [[String: Any]]
    else { return [] }
    let positions = TextPositions(text: text(of: path), encoding: encoding)
    return diagnostics.compactMap { diagnostic in
      guard diagnostic["source"] as? String == "forkguard", let rule = diagnostic["code"] as? String,
        let start = (diagnostic["range"] as? [String: Any])?["start"] as? [String: Any],
        let line = start["line"] as? Int
      else { return nil }
      let comment = positions.indentation(line: line + 1) + "// forkguard:ignore \(rule) -- <why this is safe>\n"
      let at: [String: Any] = ["line": line, "character": 0]
      return [
        "title": "Suppress '\(rule)' here with a forkguard:ignore comment",
        "kind": "quickfix",
        "diagnostics": [diagnostic],
        "edit": ["changes": [uri(path): [["range": ["start": at, "end": at], "newText": comment]]]],
      ]
    }
  }
}
