import ForkGuardCore
import Foundation

/// `forkguard run`: the program under the preload library, every process's reports
/// collected and turned into diagnostics.
public struct RuntimeRun {
  public struct Options: Sendable {
    public var program: String
    public var arguments: [String]
    public var track = false
    public var unsafeCalls = false
    /// `abort`, `edeadlk` or `continue`; nil leaves the library's default (abort).
    public var onDeadlock: String?
    public var library: String
    public var workingDirectory: String?

    public init(program: String, arguments: [String], library: String) {
      self.program = program
      self.arguments = arguments
      self.library = library
    }
  }

  public struct Result: Sendable {
    /// The program's exit status, as a shell reports it (128 + signal when killed).
    public var exitStatus: Int32
    public var reports: [RuntimeReport]
    public var diagnostics: [Diagnostic]
    public var symbolizer: String?
  }

  public struct LaunchError: Error, CustomStringConvertible {
    public var program: String
    public var problem: String
    public var description: String { "\(program): \(problem)" }
  }

  public static func run(_ options: Options) throws -> Result {
    let logDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "forkguard-run-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: logDirectory) }

    var environment = ProcessInfo.processInfo.environment
    let preload = environment["LD_PRELOAD"].map { $0.isEmpty ? options.library : $0 + " " + options.library }
    environment["LD_PRELOAD"] = preload ?? options.library
    var settings: [String] = []
    if let existing = environment["FORKGUARD_OPTIONS"], !existing.isEmpty { settings.append(existing) }
    if options.track { settings.append("mode=track") }
    if options.unsafeCalls { settings.append("unsafe_calls=1") }
    if let onDeadlock = options.onDeadlock { settings.append("on_deadlock=\(onDeadlock)") }
    settings.append("log_path=\(logDirectory.path)/report")
    environment["FORKGUARD_OPTIONS"] = settings.joined(separator: ":")

    let process = Process()
    process.executableURL = try executable(options.program)
    process.arguments = options.arguments
    process.environment = environment
    if let directory = options.workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    do { try process.run() } catch {
      throw LaunchError(program: options.program, problem: "cannot run: \(error.localizedDescription)")
    }
    process.waitUntilExit()
    let status =
      process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus

    var reports: [RuntimeReport] = []
    let logs = (try? FileManager.default.contentsOfDirectory(atPath: logDirectory.path)) ?? []
    for name in logs.sorted() {
      guard let data = FileManager.default.contents(atPath: logDirectory.appendingPathComponent(name).path) else {
        continue
      }
      reports += RuntimeReportParser.parse(String(decoding: data, as: UTF8.self))
    }
    let symbolizer = Symbolizer()
    let diagnostics = RuntimeDiagnostics(symbolizer: symbolizer).diagnostics(for: reports)
    return Result(exitStatus: status, reports: reports, diagnostics: diagnostics, symbolizer: symbolizer.toolName)
  }

  /// A program name is looked up in PATH as a shell would.
  static func executable(_ program: String) throws -> URL {
    if program.contains("/") { return URL(fileURLWithPath: program) }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
      let candidate = "\(directory)/\(program)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
    }
    throw LaunchError(program: program, problem: "command not found")
  }
}
