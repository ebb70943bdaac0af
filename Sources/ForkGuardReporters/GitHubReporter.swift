import ForkGuardCore

/// GitHub Actions workflow commands: `::warning file=…,line=…,col=…,title=…::message`, escaped
/// as the runner expects (`%`, CR and LF everywhere; also `:` and `,` in properties). The
/// notes follow the message on lines of their own, so the annotation shows the chain.
public struct GitHubReporter: Reporter {
  public static let name = "github"
  private let paths: PathDisplay

  public init(paths: PathDisplay, rules: [RuleDescriptor] = []) { self.paths = paths }

  public func render(_ diagnostics: [Diagnostic]) -> String {
    var output = ""
    for diagnostic in diagnostics {
      let command: String
      switch diagnostic.severity {
      case .error: command = "error"
      case .warning: command = "warning"
      case .note: command = "notice"
      }
      var properties = ["file=" + Self.escapeProperty(paths.display(diagnostic.location.file))]
      if diagnostic.location.line > 0 { properties.append("line=\(diagnostic.location.line)") }
      if diagnostic.location.column > 0 { properties.append("col=\(diagnostic.location.column)") }
      properties.append("title=" + Self.escapeProperty(diagnostic.ruleID.map { "forkguard: \($0)" } ?? "forkguard"))
      var message = diagnostic.message + (diagnostic.ruleID.map { " [\($0)]" } ?? "")
      for note in diagnostic.notes {
        message +=
          "\n\(paths.display(note.location.file)):\(note.location.line):\(note.location.column): note: \(note.message)"
      }
      output += "::\(command) \(properties.joined(separator: ","))::\(Self.escapeData(message))\n"
    }
    return output
  }

  /// The runner's escaping of a command's message.
  static func escapeData(_ text: String) -> String {
    text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
      .replacingOccurrences(of: "\n", with: "%0A")
  }

  /// The runner's escaping of a property value.
  static func escapeProperty(_ text: String) -> String {
    escapeData(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
  }
}
