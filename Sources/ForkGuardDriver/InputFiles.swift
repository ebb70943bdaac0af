import Foundation

/// Expands the paths given on the command line to the source files to analyse.
public enum InputFiles {
  public static let cExtensions: Set<String> = ["c", "h"]
  /// Folders that hold build output or dependencies, never sources to check (hidden
  /// folders are skipped too).
  public static let skippedDirectories: Set<String> = [
    ".build", ".git", ".hg", ".svn", ".swiftpm", "build", "_build", "node_modules", "DerivedData",
  ]

  public struct Problem: Error, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
  }

  /// Files named explicitly are taken whatever their extension; directories are searched for
  /// `.c` and `.swift` files (headers are analysed through the files that include them;
  /// `Package.swift` manifests are not analysed).
  public static func collect(_ paths: [String], base: String) -> (files: [String], problems: [Problem]) {
    var files = Set<String>()
    var problems: [Problem] = []
    let manager = FileManager.default
    for given in paths {
      let absolute = URL(fileURLWithPath: given, relativeTo: URL(fileURLWithPath: base, isDirectory: true))
        .standardizedFileURL.path
      var isDirectory: ObjCBool = false
      guard manager.fileExists(atPath: absolute, isDirectory: &isDirectory) else {
        problems.append(Problem(path: given, problem: "no such file or directory"))
        continue
      }
      if !isDirectory.boolValue {
        guard manager.isReadableFile(atPath: absolute) else {
          problems.append(Problem(path: given, problem: "cannot read file"))
          continue
        }
        files.insert(absolute)
        continue
      }
      guard let walker = manager.enumerator(atPath: absolute) else {
        problems.append(Problem(path: given, problem: "cannot read directory"))
        continue
      }
      while let relative = walker.nextObject() as? String {
        let name = (relative as NSString).lastPathComponent
        let full = absolute + "/" + relative
        if let type = walker.fileAttributes?[.type] as? FileAttributeType, type == .typeDirectory {
          // Hidden folders hold VCS data, editor state or patch backups (quilt's .pc).
          if skippedDirectories.contains(name) || name.hasPrefix(".") || name.hasPrefix("cmake-build") {
            walker.skipDescendants()
          }
          continue
        }
        if ["c", "swift"].contains((name as NSString).pathExtension) && name != "Package.swift" {
          files.insert(full)
        }
      }
    }
    return (files.sorted(), problems)
  }
}
