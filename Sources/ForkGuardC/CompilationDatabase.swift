import Foundation

/// `compile_commands.json`, both the `command` and the `arguments` form.
public struct CompilationDatabase: Sendable {
  public struct Entry: Sendable {
    public var directory: String
    public var file: String
    public var arguments: [String]
  }

  /// Each file's flags for libclang, made once: a check asks for them several times per
  /// file (the scan, the parse, the cache key).
  private let parsed: [String: [String]]

  public let path: String
  private let entries: [String: Entry]

  public struct LoadError: Error, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
  }

  public init(path: String) throws {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
      throw LoadError(path: path, problem: "cannot read compilation database")
    }
    try self.init(data: data, path: path)
  }

  /// The database `data` holds, as if read from `path`.
  public init(data: Data, path: String) throws {
    self.path = path
    guard !data.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) else {
      throw LoadError(path: path, problem: "the compilation database is empty")
    }
    guard let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
      throw LoadError(path: path, problem: "not a JSON array of compile commands")
    }
    var entries: [String: Entry] = [:]
    for (index, item) in list.enumerated() {
      guard let directory = item["directory"] as? String, let file = item["file"] as? String else {
        throw LoadError(path: path, problem: "entry \(index) lacks 'directory' or 'file'")
      }
      let arguments: [String]
      if let given = item["arguments"] as? [String] {
        arguments = given
      } else if let command = item["command"] as? String {
        arguments = ShellWords.split(command)
      } else {
        throw LoadError(path: path, problem: "entry \(index) has neither 'arguments' nor 'command'")
      }
      let absolute = URL(fileURLWithPath: file, relativeTo: URL(fileURLWithPath: directory, isDirectory: true))
        .standardizedFileURL.path
      if entries[absolute] == nil {
        entries[absolute] = Entry(directory: directory, file: absolute, arguments: arguments)
      }
    }
    self.entries = entries
    parsed = entries.mapValues(Self.parseArguments(from:))
  }

  public var files: [String] { entries.keys.sorted() }

  /// The flags libclang needs for `file`: the compiler, output and the file itself dropped,
  /// relative include paths made absolute.
  public func parseArguments(for file: String) -> [String]? {
    parsed[file]
  }

  static func parseArguments(from entry: Entry) -> [String] {
    var result: [String] = []
    var arguments = entry.arguments.dropFirst()[...]
    let pathFlags: Set<String> = [
      "-I", "-isystem", "-iquote", "-idirafter", "-include", "-imacros", "-isysroot", "--sysroot",
    ]
    func absolute(_ path: String) -> String {
      path.hasPrefix("/")
        ? path
        : URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: entry.directory, isDirectory: true))
          .standardizedFileURL.path
    }
    while let argument = arguments.popFirst() {
      if argument == "-c" || argument == "-MD" || argument == "-MMD" || argument == "-MP" { continue }
      if argument == "-o" || argument == "-MF" || argument == "-MT" || argument == "-MQ" {
        _ = arguments.popFirst()
        continue
      }
      if argument.hasPrefix("-o") && argument.count > 2 { continue }
      if pathFlags.contains(argument), let value = arguments.popFirst() {
        result += [argument, absolute(value)]
        continue
      }
      if let flag = ["-I", "-isystem", "-iquote"].first(where: { argument.hasPrefix($0) && argument.count > $0.count })
      {
        result.append(flag + absolute(String(argument.dropFirst(flag.count))))
        continue
      }
      if !argument.hasPrefix("-") && absolute(argument) == entry.file { continue }
      result.append(argument)
    }
    return result
  }
}

/// POSIX shell word splitting, enough for compile commands: quotes and backslashes.
enum ShellWords {
  static func split(_ command: String) -> [String] {
    var words: [String] = []
    var current = ""
    var inWord = false
    var quote: Character? = nil
    var escaped = false
    for character in command {
      if escaped {
        current.append(character)
        escaped = false
        continue
      }
      if character == "\\" && quote != "'" {
        escaped = true
        inWord = true
        continue
      }
      if let open = quote {
        if character == open { quote = nil } else { current.append(character) }
        continue
      }
      if character == "'" || character == "\"" {
        quote = character
        inWord = true
      } else if character == " " || character == "\t" || character == "\n" {
        if inWord { words.append(current) }
        current = ""
        inWord = false
      } else {
        current.append(character)
        inWord = true
      }
    }
    if inWord { words.append(current) }
    return words
  }
}
