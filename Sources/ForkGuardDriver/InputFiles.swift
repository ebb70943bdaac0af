import Foundation

#if canImport(Glibc)
  import Glibc
#endif

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
  /// `Package.swift` manifests are not analysed). Only regular text files are read: a FIFO
  /// would block the parser forever, and a binary would be "parsed" into noise. Named, such
  /// a file is refused; met in a walk, a FIFO, socket or device is skipped.
  public static func collect(_ paths: [String], base: String) -> (files: [String], problems: [Problem]) {
    var files = Set<String>()
    var problems: [Problem] = []
    for given in paths {
      let absolute = URL(fileURLWithPath: given, relativeTo: URL(fileURLWithPath: base, isDirectory: true))
        .standardizedFileURL.path
      switch FileKind(path: absolute) {
      case .missing:
        problems.append(Problem(path: given, problem: "no such file or directory"))
        continue
      case .special(let kind):
        problems.append(
          Problem(path: given, problem: "not a regular file (\(kind)); forkguard reads only regular files"))
        continue
      case .regular:
        if let problem = textProblem(absolute) {
          problems.append(Problem(path: given, problem: problem))
        } else {
          files.insert(absolute)
        }
        continue
      case .directory:
        break
      }
      guard
        walk(
          absolute, relative: "",
          visit: { relative, name in
            guard ["c", "swift"].contains((name as NSString).pathExtension), name != "Package.swift" else { return }
            let full = absolute + "/" + relative
            guard case .regular = FileKind(path: full) else { return }
            if let problem = textProblem(full) {
              problems.append(Problem(path: display(full, given: given, absolute: absolute), problem: problem))
              return
            }
            files.insert(full)
          })
      else {
        problems.append(Problem(path: given, problem: "cannot read directory"))
        continue
      }
    }
    return (files.sorted(), problems)
  }

  /// Calls `visit` with the path (relative to `root`) and name of every entry below `root`
  /// that is not a folder, each folder's entries in name order, without descending into
  /// skipped or hidden folders or through symbolic links to folders. False when `root`
  /// cannot be read.
  private static func walk(_ root: String, relative: String, visit: (String, String) -> Void) -> Bool {
    guard let entries = DirectoryEntries.list(relative.isEmpty ? root : root + "/" + relative) else { return false }
    for entry in entries {
      let path = relative.isEmpty ? entry.name : relative + "/" + entry.name
      if entry.isDirectory {
        // Hidden folders hold VCS data, editor state or patch backups (quilt's .pc).
        if skippedDirectories.contains(entry.name) || entry.name.hasPrefix(".") || entry.name.hasPrefix("cmake-build") {
          continue
        }
        _ = walk(root, relative: path, visit: visit)
      } else {
        visit(path, entry.name)
      }
    }
    return true
  }

  /// A file met in a walk is named as the user would: under the path they gave.
  private static func display(_ full: String, given: String, absolute: String) -> String {
    let relative = String(full.dropFirst(absolute.count + 1))
    return given == "." ? relative : (given as NSString).appendingPathComponent(relative)
  }

  enum FileKind {
    case missing, directory, regular
    case special(String)

    /// What `path` is, following symbolic links (as opening it would).
    init(path: String) {
      var status = stat()
      guard stat(path, &status) == 0 else {
        self = .missing
        return
      }
      switch status.st_mode & S_IFMT {
      case S_IFDIR: self = .directory
      case S_IFREG: self = .regular
      case S_IFIFO: self = .special("a FIFO")
      case S_IFSOCK: self = .special("a socket")
      case S_IFCHR: self = .special("a character device")
      case S_IFBLK: self = .special("a block device")
      default: self = .special("not a file")
      }
    }
  }

  /// Why a regular file cannot be analysed as source, or nil. Text is what has no NUL byte
  /// in its first 8 KiB (git's and grep's test): C sources in Latin-1 or with stray bytes
  /// are still text, while object files, executables and archives all hold NULs early.
  static func textProblem(_ path: String) -> String? {
    let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard descriptor >= 0 else { return "cannot read file (\(String(cString: strerror(errno))))" }
    defer { close(descriptor) }
    var buffer = [UInt8](repeating: 0, count: 8192)
    let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
    guard count >= 0 else { return "cannot read file (\(String(cString: strerror(errno))))" }
    let head = buffer[..<count]
    guard head.contains(0) else { return nil }
    if head.starts(with: [0x7f, 0x45, 0x4c, 0x46]) {
      return "not a text file (an ELF binary); forkguard reads C and Swift source"
    }
    return "not a text file (it holds NUL bytes); forkguard reads C and Swift source"
  }
}
