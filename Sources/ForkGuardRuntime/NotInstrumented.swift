import ForkGuardCore
import Foundation

/// runtime-not-instrumented: a program forkguard run cannot see into. The launcher
/// (fg_launcher.c) finds it for the program it starts and reports it in the library's form,
/// from pid 0; the preload library for every later exec (its exec wrappers, fg_preload.c),
/// with the same check (CForkGuardExec).
enum NotInstrumented {
  static let rule = "runtime-not-instrumented"

  static func message(program: String, reason: String) -> String {
    let name = "'\(program)'"
    switch reason {
    case "static":
      return
        "\(name) is statically linked: the dynamic loader never runs for it, so forkguard's preload library is not in it and its forks and locks go unchecked; check a dynamically linked build of it"
    case "setuid", "setgid":
      let bit = reason == "setuid" ? "set-user-ID" : "set-group-ID"
      return
        "\(name) is \(bit): the loader ignores LD_PRELOAD for it, so its forks and locks go unchecked; check a copy without the \(bit) bit, or run it as its owner"
    case "go":
      return
        "\(name) is a Go program: its runtime forks and locks with its own system calls, not the C library's, so forkguard sees none of them; use Go's race detector (go build -race) for its locks"
    default:
      return
        "\(name) is executed with LD_PRELOAD removed or replaced in its environment, so forkguard does not see it or anything it starts; keep LD_PRELOAD, or add forkguard's library to the new value"
    }
  }
}

extension RuntimeDiagnostics {
  func notInstrumented(_ report: RuntimeReport) -> Diagnostic {
    let program = report.fields["program"] ?? "?"
    let message = NotInstrumented.message(program: program, reason: report.fields["reason"] ?? "")
    // The launcher's own check has no frames: the program is the place.
    guard report.frames["child"] != nil else {
      return Diagnostic(
        ruleID: NotInstrumented.rule, severity: .warning,
        location: SourceLocation(file: program, line: 0, column: 0), message: message)
    }
    return make(
      report, rule: NotInstrumented.rule, severity: .warning, primary: "child", message: message,
      notes: [])
  }
}
