import Foundation

/// The source files of libraries an automake build never installs (`noinst_LIBRARIES`,
/// `noinst_LTLIBRARIES`, `check_…`, `EXTRA_…`): convenience libraries that only the tree's
/// own programs link, such as inetutils' libinetutils.a or keepalived's lib/liblib.a.
/// A function in one that no program reaches is dead code for every program there is, not
/// an entry point a multithreaded host may call, as a real library's is.
///
/// Read from the `Makefile.am` files (and the `*.am` fragments they include) under the
/// inputs, without running automake; `if` conditionals are ignored, so a file listed under
/// any branch counts.
enum AutomakeLibraries {
  static let privatePrefixes = ["noinst", "check", "EXTRA"]

  /// Absolute, standardized paths of the files built only into private libraries: from
  /// every makefile under a folder given, and from those beside a file given.
  static func privateLibraryFiles(under roots: [String]) -> Set<String> {
    var files = Set<String>()
    var foldersOfFiles = Set<String>()
    func read(_ url: URL, within root: String) {
      guard url.pathExtension == "am", (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true,
        let data = FileManager.default.contents(atPath: url.path)
      else { return }
      let folder = url.deletingLastPathComponent().standardizedFileURL.path
      for source in privateSources(String(decoding: data, as: UTF8.self)) {
        if let path = resolve(source, from: folder, within: root) { files.insert(path) }
      }
    }
    for root in roots {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else { continue }
      if !isDirectory.boolValue {
        foldersOfFiles.insert((root as NSString).deletingLastPathComponent)
        continue
      }
      guard
        let walk = FileManager.default.enumerator(
          at: URL(fileURLWithPath: root, isDirectory: true), includingPropertiesForKeys: [.isRegularFileKey],
          options: [.skipsHiddenFiles])
      else { continue }
      for case let url as URL in walk { read(url, within: root) }
    }
    for folder in foldersOfFiles.sorted() {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
      for name in names.sorted() where name.hasSuffix(".am") {
        read(URL(fileURLWithPath: folder + "/" + name), within: folder)
      }
    }
    return files
  }

  /// The `.c` files listed for the private libraries a makefile declares.
  static func privateSources(_ text: String) -> [String] {
    let assignments = self.assignments(text)
    var libraries: [String] = []
    for (variable, values) in assignments {
      let parts = variable.split(separator: "_")
      guard parts.count == 2, privatePrefixes.contains(String(parts[0])),
        parts[1] == "LIBRARIES" || parts[1] == "LTLIBRARIES"
      else { continue }
      libraries += values
    }
    var sources: [String] = []
    for library in libraries {
      let canonical = String(library.map { $0.isLetter || $0.isNumber || $0 == "@" ? $0 : "_" })
      for key in [canonical + "_SOURCES", "nodist_" + canonical + "_SOURCES", "EXTRA_" + canonical + "_SOURCES"] {
        for (variable, values) in assignments where variable == key {
          sources += values.filter { $0.hasSuffix(".c") && !$0.contains("$") }
        }
      }
    }
    return sources
  }

  /// `NAME = a b \` continued lines and `NAME += c`, in order.
  static func assignments(_ text: String) -> [(String, [String])] {
    var logical: [String] = []
    var current = ""
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      let uncommented = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
      if uncommented.hasSuffix("\\") {
        current += uncommented.dropLast() + " "
      } else {
        logical.append(current + uncommented)
        current = ""
      }
    }
    var result: [(String, [String])] = []
    for line in logical {
      guard let equals = line.firstIndex(of: "=") else { continue }
      var name = line[..<equals]
      if name.hasSuffix("+") || name.hasSuffix(":") { name = name.dropLast() }
      let variable = name.trimmingCharacters(in: .whitespaces)
      guard !variable.isEmpty, !variable.contains(" "), !variable.contains("\t") else { continue }
      let values = line[line.index(after: equals)...].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(
        String.init)
      result.append((variable, values))
    }
    return result
  }

  /// A listed source, relative to the makefile's folder or, for a fragment included from
  /// a makefile higher up (util-linux's `lib/Makemodule.am`), to one of its parents.
  private static func resolve(_ source: String, from folder: String, within root: String) -> String? {
    var base = folder
    while true {
      let candidate = URL(fileURLWithPath: source, relativeTo: URL(fileURLWithPath: base, isDirectory: true))
        .standardizedFileURL.path
      if FileManager.default.fileExists(atPath: candidate) { return candidate }
      guard base.hasPrefix(root), base != root, base.count > 1 else { return nil }
      base = (base as NSString).deletingLastPathComponent
    }
  }
}
