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

  private func place(_ location: SourceLocation) -> String {
    "\(paths.display(location.file)):\(location.line):\(location.column)"
  }
}
