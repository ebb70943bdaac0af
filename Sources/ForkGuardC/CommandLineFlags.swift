/// Compiler flags as the driver reads them, for saying which ones libclang refused.
enum CommandLineFlags {
  /// Flags whose value is the next argument.
  static let takingValues: Set<String> = [
    "-x", "-I", "-D", "-U", "-include", "-imacros", "-isystem", "-iquote", "-idirafter", "-isysroot", "--sysroot",
    "-target", "-arch", "-Xclang", "-o", "-MF", "-MT", "-MQ", "-resource-dir",
  ]

  /// The arguments cut into flags, each with its separate value.
  static func groups(_ arguments: [String]) -> [[String]] {
    var groups: [[String]] = []
    var index = 0
    while index < arguments.count {
      let flag = arguments[index]
      if takingValues.contains(flag), index + 1 < arguments.count {
        groups.append([flag, arguments[index + 1]])
        index += 2
      } else {
        groups.append([flag])
        index += 1
      }
    }
    return groups
  }

  /// Words for the flags (each written as on the command line) whose removal lets libclang
  /// parse: what is wrong with one, or which two clash.
  static func rejection(of culprits: [String]) -> String {
    if culprits.count == 1 { return "libclang rejected the flag '\(culprits[0])'\(hint(culprits[0]))" }
    let language = culprits.first { $0.hasPrefix("-x") }
    let standard = culprits.first { $0.hasPrefix("-std=") || $0.hasPrefix("--std=") }
    if let language, let standard {
      let name = language.dropFirst(2).trimmingPrefix(" ")
      return
        "libclang rejected '\(standard)' with '\(language)': it is not a standard of the language '\(name)' (give a -std= for \(name), or none)"
    }
    return "libclang rejected the flags \(culprits.map { "'\($0)'" }.joined(separator: " and ")) together"
  }

  static func hint(_ flag: String) -> String {
    if flag.hasPrefix("-std=") || flag.hasPrefix("--std=") {
      let value = flag.split(separator: "=", maxSplits: 1).last.map(String.init) ?? ""
      return
        ": '\(value)' is not a language standard clang knows (for C: c89, c99, c11, c17, c2x, or their gnu89… variants)"
    }
    if flag.hasPrefix("-x") {
      let value = flag.dropFirst(2).trimmingPrefix(" ")
      return ": '\(value)' is not a language clang can parse (forkguard reads C: '-x c')"
    }
    if flag.hasPrefix("-target") || flag.hasPrefix("--target") || flag.hasPrefix("-m") {
      return ": a target or machine option this libclang does not support"
    }
    return ""
  }
}
