import CFuzzer
import ForkGuardCore
import ForkGuardRules
import Foundation

/// What every harness shares: the input as text, the knowledge base, and running the whole
/// analysis on a thread with the stack a check run gives it.
public enum FuzzSupport {
  public typealias Harness = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

  /// Hands the process to libFuzzer, which calls `harness` with each input.
  public static func main(_ harness: Harness) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, harness))
  }

  public static func text(_ data: UnsafePointer<UInt8>?, _ size: Int) -> String {
    String(decoding: UnsafeBufferPointer(start: data, count: data == nil ? 0 : size), as: UTF8.self)
  }

  public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Data {
    guard let data else { return Data() }
    return Data(bytes: data, count: size)
  }

  public static let knowledge: Knowledge = {
    do { return try Knowledge(profile: .posix2024) } catch { fatalError("knowledge base: \(error)") }
  }()

  /// Every rule over one file's facts, as `check` runs them.
  public static func analyse(_ facts: FileFacts) {
    let program = ProgramGraph(files: [facts], policy: knowledge.linkPolicy)
    let input = AnalysisInput(program: program, knowledge: knowledge, options: AnalysisOptions())
    for rule in RuleRegistry.all { rule.check(input) { _ in } }
  }

  /// Runs `body` on a thread with a 256 MiB stack, as check's workers do: deeply nested
  /// input recurses deeply in libclang and the lowering.
  public static func onDeepStack(_ body: @escaping @Sendable () -> Void) {
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      body()
      done.signal()
    }
    thread.stackSize = 256 << 20
    thread.start()
    done.wait()
  }
}
