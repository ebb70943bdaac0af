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

  /// Rules the preload library reports at run time (`forkguard run`); their logic is in
  /// Sources/ForkGuardPreload and Sources/ForkGuardRuntime.
  public static let runtime: [RuleDescriptor] = [
    RuleDescriptor(
      id: "runtime-child-deadlock", summary: "fork child about to block forever on a lock a vanished thread holds",
      kind: .runtime, traits: observed(["deadlock", "external/cwe/cwe-833"], severity: "error")),
    RuleDescriptor(
      id: "runtime-lock-held-at-fork", summary: "lock held by another thread at fork (track mode)", kind: .runtime,
      traits: observed(["deadlock", "external/cwe/cwe-667"])),
    RuleDescriptor(
      id: "runtime-child-unsafe-call", summary: "non-async-signal-safe call in a multithreaded fork child, at run time",
      kind: .runtime, traits: observed(["async-signal-safety"])),
    RuleDescriptor(
      id: "runtime-not-instrumented",
      summary: "a program forkguard run cannot see into: static, set-user-ID, Go, or started without LD_PRELOAD",
      kind: .runtime, traits: observed(["coverage"], severity: "warning")),
  ]

  /// Findings about forkguard's own comments, made by `check` itself.
  public static let suppressions: [RuleDescriptor] = [
    RuleDescriptor(
      id: "invalid-suppression", summary: "a forkguard:ignore comment without a rule or a reason, or unbalanced",
      kind: .staticAnalysis,
      traits: CodeScanningTraits(tags: ["maintainability"], precision: .veryHigh, problemSeverity: "recommendation")),
    RuleDescriptor(
      id: "unused-suppression",
      summary: "a forkguard:ignore comment that silences nothing (--report-unused-suppressions)",
      kind: .staticAnalysis,
      traits: CodeScanningTraits(tags: ["maintainability"], precision: .veryHigh, problemSeverity: "recommendation")),
  ]

  /// Every rule, static then suppression then runtime: the list `forkguard rules`, docs
  /// and SARIF use.
  public static var descriptors: [RuleDescriptor] {
    all.map { RuleDescriptor(id: $0.id, summary: $0.summary, kind: .staticAnalysis, traits: $0.traits) }
      + suppressions + runtime
  }

  /// A runtime rule reports what happened in the process: its precision is the highest.
  private static func observed(_ tags: [String], severity: String = "warning") -> CodeScanningTraits {
    CodeScanningTraits(tags: ["fork-safety", "runtime"] + tags, precision: .veryHigh, problemSeverity: severity)
  }

  public static func rule(id: String) -> (any Rule)? {
    all.first { $0.id == id }
  }
}
