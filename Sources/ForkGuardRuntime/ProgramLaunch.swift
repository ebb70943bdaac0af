import CForkGuardExec
import Foundation

/// Starts the launcher (and through it the program) with posix_spawn in forkguard's own
/// process group, so a Ctrl-C at the terminal reaches the program directly, as it would
/// without forkguard (Foundation's Process puts it in a group of its own, where the
/// terminal's signals never arrive).
enum ProgramLaunch {
  /// `descriptor3` becomes the child's descriptor 3.
  static func spawn(
    executable: String, arguments: [String], environment: [String: String], workingDirectory: String?,
    descriptor3: Int32
  ) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, descriptor3, 3)
    if let workingDirectory { fg_spawn_add_chdir(&actions, workingDirectory) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // forkguard's forwarding handlers must not be the program's: dispositions a parent
    // catches are reset by exec anyway; set them to default explicitly for the three.
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in SignalForwarding.forwarded { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))

    let argv = arguments.map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var child: pid_t = 0
    let failed = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
    guard failed == 0 else {
      throw RuntimeRun.LaunchError(program: executable, problem: "cannot run: \(String(cString: strerror(failed)))")
    }
    return child
  }
}

/// SIGINT, SIGTERM and SIGHUP sent to forkguard (by kill, a supervisor, a CI runner's
/// timeout) are passed on to the program, and forkguard waits for it to end, reporting what
/// it saw. The same signals from the terminal (the kernel sends them to the whole foreground
/// process group, the program included) are not sent twice.
final class SignalForwarding {
  static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP]
  private var previous: [Int32: sigaction] = [:]

  /// Installed before the program starts, so no signal in between kills forkguard and
  /// orphans it; one that arrives before `forward(to:)` is held and passed on then.
  init() {
    forwardingTarget = 0
    forwardingPending = 0
    for signal in Self.forwarded {
      var action = sigaction()
      action.__sigaction_handler.sa_sigaction = { signal, info, _ in
        // si_code > 0: the kernel sent it (a terminal's ^C, a hangup), to the program too.
        guard let info, info.pointee.si_code <= 0 else { return }
        if forwardingTarget > 0 { kill(forwardingTarget, signal) } else { forwardingPending = signal }
      }
      action.sa_flags = SA_SIGINFO | SA_RESTART
      sigemptyset(&action.sa_mask)
      var old = sigaction()
      sigaction(signal, &action, &old)
      previous[signal] = old
    }
  }

  func forward(to child: pid_t) {
    forwardingTarget = child
    if forwardingPending != 0 { kill(child, forwardingPending) }
  }

  func restore() {
    for (signal, var old) in previous { sigaction(signal, &old, nil) }
    forwardingTarget = 0
  }
}

/// The program a forwarding handler signals: a C signal handler cannot capture context.
nonisolated(unsafe) private var forwardingTarget: pid_t = 0
/// A signal that came before the program existed.
nonisolated(unsafe) private var forwardingPending: Int32 = 0
