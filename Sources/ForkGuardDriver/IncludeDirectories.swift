import Foundation

/// Without a compilation database, headers are looked for where C projects keep them:
/// an `include/` folder beside the file or in any folder above it, up to the project's root
/// (SwiftPM's `Sources/<Target>/include`, autotools' and CMake's top-level `include/`), and
/// the project's root itself (`#include "config.h"` from a subfolder). The project's root is
/// found from the files, not from the path given, so `check src` sees what `check .` sees:
/// the highest folder above the input with a project marker, stopping at a repository's.
struct IncludeDirectories {
  let roots: [String]
  private var cache: [String: Bool] = [:]
  private var projectRoots: [String: String] = [:]
  static let projectMarkers = [
    "configure.ac", "configure", "CMakeLists.txt", "meson.build", "Package.swift", "Makefile.am", "debian",
  ]

  init(roots: [String]) { self.roots = roots }

  mutating func directories(for file: String) -> [String] {
    let inputRoot = roots.filter { file == $0 || file.hasPrefix($0 + "/") }.max { $0.count < $1.count }
    var root: String?
    if let inputRoot { root = projectRoot(above: inputRoot) }
    var result: [String] = []
    var directory = (file as NSString).deletingLastPathComponent
    while true {
      let candidate = directory + "/include"
      if exists(candidate) { result.append(candidate) }
      guard let root, directory.count > root.count, directory.hasPrefix(root) else { break }
      directory = (directory as NSString).deletingLastPathComponent
    }
    if let root, root != (file as NSString).deletingLastPathComponent { result.append(root) }
    return result
  }

  /// The project an input folder (or file) belongs to: the input's folder, or the first
  /// folder at most three levels up with a project marker, and then its parents while they
  /// have one too (a Debian tree's `debian/` beside `configure`); a repository's root ends
  /// the climb.
  private mutating func projectRoot(above input: String) -> String {
    if let known = projectRoots[input] { return known }
    let manager = FileManager.default
    func isMarked(_ directory: String) -> Bool {
      Self.projectMarkers.contains { manager.fileExists(atPath: directory + "/" + $0) }
    }
    var directory = exists(input) ? input : (input as NSString).deletingLastPathComponent
    var best = directory
    var found = false
    for level in 0..<64 {
      guard directory != "/", !directory.isEmpty else { break }
      let marked = isMarked(directory)
      if marked {
        best = directory
        found = true
      } else if found || level >= 3 {
        break
      }
      if manager.fileExists(atPath: directory + "/.git") { break }
      directory = (directory as NSString).deletingLastPathComponent
    }
    projectRoots[input] = best
    return best
  }

  private mutating func exists(_ path: String) -> Bool {
    if let known = cache[path] { return known }
    var isDirectory: ObjCBool = false
    let found = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    cache[path] = found
    return found
  }
}
