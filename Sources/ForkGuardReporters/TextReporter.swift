import ForkGuardCore

/// `path:line:col: warning: message [rule-id]` and `note:` lines: what gcc, clang, VS Code's
/// `$gcc` problem matcher, Vim's errorformat and Emacs' compilation mode read.
public struct TextReporter: Reporter {
  public static let name = "text"
  private let paths: PathDisplay
  private let colors: Bool

  public init(paths: PathDisplay, rules: [RuleDescriptor] = []) { self.init(paths: paths, colors: false) }

  /// - Parameter colors: clang's colours (bold places and messages, a bold red `error:`,
  ///   magenta `warning:`, grey `note:`), for a terminal.
  public init(paths: PathDisplay, colors: Bool) {
    self.paths = paths
    self.colors = colors
  }

  public func render(_ diagnostics: [Diagnostic]) -> String {
    var output = ""
    for diagnostic in diagnostics {
      let rule = diagnostic.ruleID.map { " [\($0)]" } ?? ""
      output +=
        "\(bold(place(diagnostic.location) + ":")) \(label(diagnostic.severity)) \(bold(diagnostic.message + rule))\n"
      for note in diagnostic.notes {
        output += "\(bold(place(note.location) + ":")) \(label(.note)) \(note.message)\n"
      }
    }
    return output
  }

  private func bold(_ text: String) -> String { colors ? "\u{1b}[1m\(text)\u{1b}[0m" : text }

  private func label(_ severity: Severity) -> String {
    let text = severity.rawValue + ":"
    guard colors else { return text }
    let color: String
    switch severity {
    case .error: color = "31"
    case .warning: color = "35"
    case .note: color = "30"
    }
    return "\u{1b}[1;\(color)m\(text)\u{1b}[0m"
  }

  /// A place without a line (a binary built without -g) is the file alone, as gcc and
  /// clang write file-level diagnostics, rather than a `:0:0` no editor can go to.
  private func place(_ location: SourceLocation) -> String {
    guard location.line > 0 else { return paths.display(location.file) }
    return "\(paths.display(location.file)):\(location.line):\(location.column)"
  }
}
