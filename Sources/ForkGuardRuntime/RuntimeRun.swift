import CForkGuardExec
import ForkGuardCore
import Foundation

/// `forkguard run`: the program under the preload library, every process's reports
/// received as they are made and turned into diagnostics.
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
    /// Every diagnostic, merged across processes and sorted, as a whole-run format needs.
    public var diagnostics: [Diagnostic]
    /// Diagnostics more than one process reported, with how many (for a live report's end).
    public var repeated: [(diagnostic: Diagnostic, processes: Int)]
    public var symbolizer: String?
  }

  public struct LaunchError: Error, CustomStringConvertible {
    public var program: String
    public var problem: String
    public var description: String { "\(program): \(problem)" }
  }

  /// Runs the program to its end. `live` gets each diagnostic the moment its first report
  /// arrives (a daemon's reports show while it runs); the result has them all.
  public static func run(_ options: Options, live: ((Diagnostic) -> Void)? = nil) throws -> Result {
    let executable = try executable(options.program)
    let socket = try ReportSocket()
    defer { socket.close() }

    var environment = ProcessInfo.processInfo.environment
    let preload = environment["LD_PRELOAD"].map { $0.isEmpty ? options.library : $0 + " " + options.library }
    environment["LD_PRELOAD"] = preload ?? options.library
    var settings: [String] = []
    if let existing = environment["FORKGUARD_OPTIONS"], !existing.isEmpty { settings.append(existing) }
    if options.track { settings.append("mode=track") }
    if options.unsafeCalls { settings.append("unsafe_calls=1") }
    if let onDeadlock = options.onDeadlock { settings.append("on_deadlock=\(onDeadlock)") }
    settings.append("log_socket=\(socket.name)")
    settings.append("log_fd=\(socket.inheritedDescriptor)")
    environment["FORKGUARD_OPTIONS"] = settings.joined(separator: ":")

    var collector = Collector(live: live)
    // The program itself: a program the loader will not preload into says so up front.
    let problem = fg_exec_problem(executable.path, nil, nil)
    if problem != FG_EXEC_INSTRUMENTED.rawValue {
      collector.add(NotInstrumented.report(program: executable.path, problem: problem))
    }

    let forwarding = SignalForwarding()
    defer { forwarding.restore() }
    let child = try ProgramLaunch.spawn(
      executable: executable.path, arguments: [options.program] + options.arguments, environment: environment,
      workingDirectory: options.workingDirectory)
    forwarding.forward(to: child)

    var status: Int32 = 0
    while true {
      for datagram in socket.receive(waitingMilliseconds: 20) { collector.consume(datagram) }
      let waited = waitpid(child, &status, WNOHANG)
      if waited == child || (waited < 0 && errno != EINTR) { break }
    }
    // What the program's processes sent before it ended is queued on the socket.
    for datagram in socket.receive(waitingMilliseconds: 0) { collector.consume(datagram) }
    let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return Result(
      exitStatus: exitStatus, reports: collector.reports, diagnostics: collector.merger.merged(),
      repeated: collector.merger.repeated, symbolizer: collector.symbolizerName)
  }

  /// Reports to diagnostics as datagrams arrive; the symbolizer starts only when there is
  /// something to symbolize.
  struct Collector {
    var stream = RuntimeReportStream()
    var merger = RuntimeDiagnosticMerger()
    var reports: [RuntimeReport] = []
    let live: ((Diagnostic) -> Void)?
    private var diagnostics: RuntimeDiagnostics?

    init(live: ((Diagnostic) -> Void)?) { self.live = live }

    var symbolizerName: String? {
      diagnostics?.symbolizer.toolName ?? Symbolizer.findTool().map { ($0.0 as NSString).lastPathComponent }
    }

    mutating func consume(_ datagram: [UInt8]) {
      for report in stream.consume(String(decoding: datagram, as: UTF8.self)) { add(report) }
    }

    mutating func add(_ report: RuntimeReport) {
      reports.append(report)
      if diagnostics == nil { diagnostics = RuntimeDiagnostics(symbolizer: Symbolizer()) }
      if let diagnostic = merger.add(report, diagnostics: diagnostics!) { live?(diagnostic) }
    }
  }

  /// A program name is looked up in PATH as a shell would.
  static func executable(_ program: String) throws -> URL {
    if program.contains("/") {
      guard FileManager.default.fileExists(atPath: program) else {
        throw LaunchError(program: program, problem: "no such file")
      }
      return URL(fileURLWithPath: program)
    }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
      let candidate = "\(directory)/\(program)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
    }
    throw LaunchError(program: program, problem: "command not found")
  }
}
