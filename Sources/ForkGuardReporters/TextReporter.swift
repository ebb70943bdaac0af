import ForkGuardCore

/// `path:line:col: warning: message [rule-id]` and `note:` lines: what gcc, clang, VS Code's
/// `$gcc` problem matcher, Vim's errorformat and Emacs' compilation mode read.
public struct TextReporter: Reporter {
  public static let name = "text"
  private let paths: PathDisplay

  public init(paths: PathDisplay, rules: [RuleDescriptor] = []) { self.paths = paths }

  public func render(_ diagnostics: [Diagnostic]) -> String {
    var output = ""
    for diagnostic in diagnostics {
      let rule = diagnostic.ruleID.map { " [\($0)]" } ?? ""
      output += "\(place(diagnostic.location)): \(diagnostic.severity.rawValue): \(diagnostic.message)\(rule)\n"
      for note in diagnostic.notes {
        output += "\(place(note.location)): note: \(note.message)\n"
      }
    }
    return output
  }

  /// A place without a line (a binary built without -g) is the file alone, as gcc and
  /// clang write file-level diagnostics, rather than a `:0:0` no editor can go to.
  private func place(_ location: SourceLocation) -> String {
    guard location.line > 0 else { return paths.display(location.file) }
    return "\(paths.display(location.file)):\(location.line):\(location.column)"
  }
}
