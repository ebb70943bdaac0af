import ForkGuardCore

/// The only list of rules. A rule missing here does not run, has no docs check and no
/// fixture check.
public enum RuleRegistry {
  public static let all: [any Rule] = [
    ForkChildUnsafeCall(),
    VforkChild(),
    SignalHandlerUnsafeCall(),
    AtforkHandlerUnsafeCall(),
    LockHeldAcrossFork(),
    ForkChildLock(),
    AtforkLockProtocol(),
  ]

  public static func rule(id: String) -> (any Rule)? {
    all.first { $0.id == id }
  }
}
