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
  ///
  /// The program is started by forkguard-launcher (Sources/ForkGuardLauncher), the small C
  /// program beside the preload library that is also the installed `forkguard`: it opens
  /// the report socket, starts the program, passes signals on and hands every report to the
  /// pipe read here.
  public static func run(_ options: Options, live: ((Diagnostic) -> Void)? = nil) throws -> Result {
    _ = try executable(options.program)
    let launcher = try Self.launcher(library: options.library)
    var arguments = [launcher, "--report-fd", "3", "--library", options.library, "run"]
    if options.track { arguments.append("--track") }
    if options.unsafeCalls { arguments.append("--unsafe-calls") }
    if let onDeadlock = options.onDeadlock { arguments += ["--on-deadlock", onDeadlock] }
    arguments += ["--", options.program] + options.arguments

    var descriptors: [Int32] = [0, 0]
    guard fg_pipe_cloexec(&descriptors) == 0 else {
      throw LaunchError(program: launcher, problem: "cannot make a pipe: \(String(cString: strerror(errno)))")
    }
    let forwarding = SignalForwarding()
    defer { forwarding.restore() }
    let child: pid_t
    do {
      child = try ProgramLaunch.spawn(
        executable: launcher, arguments: arguments, environment: ProcessInfo.processInfo.environment,
        workingDirectory: options.workingDirectory, descriptor3: descriptors[1])
    } catch {
      close(descriptors[0])
      close(descriptors[1])
      throw error
    }
    // Only the launcher holds the writing end now: the read ends when it does.
    close(descriptors[1])
    forwarding.forward(to: child)
    var collector = Collector(live: live)
    collector.read(descriptors[0])
    close(descriptors[0])

    var status: Int32 = 0
    while waitpid(child, &status, 0) < 0 && errno == EINTR {}
    let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return collector.result(exitStatus: exitStatus)
  }

  /// The reports forkguard-launcher passes on when it started this process to print them
  /// (`forkguard run --reports-from-fd 3`): it starts the Swift tool only when the first
  /// report arrives, so a run with nothing to report never loads it.
  public static func format(reportsFrom descriptor: Int32, live: ((Diagnostic) -> Void)? = nil) -> Result {
    var collector = Collector(live: live)
    collector.read(descriptor)
    return collector.result(exitStatus: 0)
  }

  /// forkguard-launcher, which scripts/build-preload.sh puts beside the library.
  static func launcher(library: String) throws -> String {
    let path = URL(fileURLWithPath: library).deletingLastPathComponent().appendingPathComponent("forkguard-launcher")
      .path
    guard FileManager.default.isExecutableFile(atPath: path) else {
      throw LaunchError(
        program: "forkguard",
        problem: "cannot find \(path) beside the preload library; build it with scripts/build-preload.sh")
    }
    return path
  }

  /// Reports to diagnostics as their lines arrive; the symbolizer starts only when there is
  /// something to symbolize.
  struct Collector {
    var stream = RuntimeReportStream()
    var merger = RuntimeDiagnosticMerger()
    var reports: [RuntimeReport] = []
    let live: ((Diagnostic) -> Void)?
    private var diagnostics: RuntimeDiagnostics?
    /// The end of the last read when it stopped inside a line.
    private var partialLine: [UInt8] = []

    init(live: ((Diagnostic) -> Void)?) { self.live = live }

    var symbolizerName: String? {
      diagnostics?.symbolizer.toolName ?? Symbolizer.findTool().map { ($0.0 as NSString).lastPathComponent }
    }

    /// Reads the launcher's pipe to its end: report lines, a pipe read at a time.
    mutating func read(_ descriptor: Int32) {
      var buffer = [UInt8](repeating: 0, count: 65536)
      while true {
        let got = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        if got < 0 && errno == EINTR { continue }
        guard got > 0 else { break }
        consume(buffer[..<got])
      }
      if !partialLine.isEmpty { consume([UInt8(ascii: "\n")]) }
    }

    mutating func consume(_ bytes: some BidirectionalCollection<UInt8>) {
      guard let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) else {
        partialLine += bytes
        return
      }
      let whole = partialLine + bytes[...lastNewline]
      partialLine = Array(bytes[bytes.index(after: lastNewline)...])
      for report in stream.consume(String(decoding: whole, as: UTF8.self)) { add(report) }
    }

    func result(exitStatus: Int32) -> Result {
      Result(
        exitStatus: exitStatus, reports: reports, diagnostics: merger.merged(), repeated: merger.repeated,
        symbolizer: symbolizerName)
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
