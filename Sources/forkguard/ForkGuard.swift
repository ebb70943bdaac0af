import ArgumentParser
import ForkGuardC
import ForkGuardCore
import ForkGuardDocs
import ForkGuardDriver
import ForkGuardLanguageServer
import ForkGuardReporters
import ForkGuardRules
import ForkGuardRuntime
import Foundation

/// Exit statuses, as clang-tidy users expect: 0 clean, 1 findings, 2 usage or input errors.
enum ExitStatus {
  static let clean: Int32 = 0
  static let findings: Int32 = 1
  static let trouble: Int32 = 2
}

@main
struct ForkGuard: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "forkguard",
    abstract:
      "Finds fork-safety bugs in C and Swift: unsafe calls in fork children, vfork children, signal and atfork handlers, and locks held across fork.",
    version: Version.text,
    subcommands: [Check.self, Run.self, LSP.self, Rules.self, Explain.self, Version.self],
    defaultSubcommand: Check.self
  )

  /// What follows `--`: compiler flags for `check` (as clang-tidy takes them), the program
  /// and its arguments for `run`. ArgumentParser cannot hold them next to a list of paths,
  /// so they are split off before parsing.
  nonisolated(unsafe) static var trailingArguments: [String] = []

  /// ArgumentParser's own exit code for usage errors is 64; forkguard promises 2.
  static func main() {
    var arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.first == "run" {
      // `forkguard run ./prog --flag -- x`: the program's arguments, `--` included, are its own.
      let (own, program) = Run.splitCommandLine(Array(arguments.dropFirst()))
      arguments = ["run"] + own
      trailingArguments = program
    } else if let terminator = arguments.firstIndex(of: "--") {
      trailingArguments = Array(arguments[(terminator + 1)...])
      arguments.removeSubrange(terminator...)
    }
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        // `--help` and `--version` arrive here with text; `ExitCode(0)` from a clean `run`
        // arrives empty and must not add a line to the program's own output.
        let message = fullMessage(for: error)
        if !message.isEmpty { print(message) }
        Foundation.exit(0)
      }
      let message = fullMessage(for: error)
      if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
      Foundation.exit(code == .validationFailure ? ExitStatus.trouble : code.rawValue)
    }
  }
}

struct Check: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Analyse C and Swift files, directories and SwiftPM packages.",
    discussion: """
      Directories are searched for .c and .swift files, skipping hidden and build folders. \
      compile_commands.json is read from -p DIR, or from . or build/ when present. \
      Flags after -- are passed to the compiler, as with clang-tidy: forkguard check src -- -DNDEBUG -Iinclude
      Exit status: 0 nothing at or above --fail-on, 1 findings, 2 usage error or input that could not be analysed.
      """
  )

  @Argument(help: "Files or directories to analyse (default: the compilation database's files, or .).")
  var paths: [String] = []

  @Option(name: .customShort("p"), help: "Directory holding compile_commands.json (or the file itself).")
  var buildPath: String?

  @Option(help: "Async-signal-safety profile: posix-2024, posix-2017 or glibc.")
  var profile: String?

  @Option(help: "Configuration file for every file (default: the nearest .forkguard.yml above each file).")
  var config: String?

  @Option(help: "Output format: \(ReporterRegistry.all.map { $0.name }.joined(separator: ", ")).")
  var format = "text"

  @Option(help: "Write the report in --format to this file; the terminal still gets text.")
  var output: String?

  @Option(help: "Colour the terminal's text: auto (on a terminal, unless NO_COLOR is set), always or never.")
  var color = "auto"

  @Option(help: "Exit 1 when a finding is at least this severe: error, warning or never.")
  var failOn = "warning"

  @Option(help: "Accept the findings recorded in this baseline file.")
  var baseline: String?

  @Option(help: "Record the current findings in this baseline file.")
  var writeBaseline: String?

  @Option(
    help:
      "Report only findings whose call or any step of its chain is on a line changed since this git revision (for review bots and pre-commit)."
  )
  var diff: String?

  @Flag(help: "Report calls to functions that have no definition and no safety data.")
  var reportUnverifiable = false

  @Option(
    help:
      "Report unsafe calls at most this many calls below their fork child or handler; deeper ones are counted in one note per context (0: report all)."
  )
  var maxChainDepth = AnalysisOptions.defaultMaxChainDepth

  @Option(
    help:
      "auto: judge a fork child as a multithreaded process's when a thread may be running at the fork, or no main reaches it (default); always: every fork child."
  )
  var threads: String?

  @Flag(help: "Report forkguard:ignore comments that silence nothing.")
  var reportUnusedSuppressions = false

  @Flag(inversion: .prefixedNo, help: "Show progress on a terminal.")
  var progress = true

  @Option(help: "Parse this many files at once.")
  var jobs = ProcessInfo.processInfo.activeProcessorCount

  @Option(
    help:
      "Cache per-file facts and the last run's outcome here (default: .build/forkguard-cache, or $XDG_CACHE_HOME/forkguard)."
  )
  var cacheDir: String?

  @Flag(help: "Parse every file and run every phase, neither reading nor writing the cache.")
  var noCache = false

  @Flag(
    help:
      "Parse every file, also those that cannot reach a fork, a handler or thread entry, or a lock (same findings; their parse problems are then reported too)."
  )
  var parseAllFiles = false

  @Flag(help: "Print how long each phase took, on stderr.")
  var timings = false

  @Option(help: "Analyse only shard I of N (1-based), e.g. 2/4; use with --write-facts.")
  var shard: String?

  @Option(help: "Write the parsed facts to this file and stop before the rules (a shard's job).")
  var writeFacts: String?

  @Option(help: "Merge facts written by shards (repeatable), then run the rules.")
  var facts: [String] = []

  func validate() throws {
    if !["auto", "always", "never"].contains(color) { throw ValidationError("--color must be auto, always or never") }
    if let shard, parsedShard(shard) == nil {
      throw ValidationError("--shard must be I/N with 1 <= I <= N, e.g. 2/4")
    }
    if let profile, SafetyProfile(rawValue: profile) == nil {
      throw ValidationError(
        "unknown profile '\(profile)'; choose \(SafetyProfile.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    if ReporterRegistry.reporter(named: format) == nil {
      throw ValidationError("unknown format '\(format)'")
    }
    if let threads, AnalysisOptions.Threads(rawValue: threads) == nil {
      throw ValidationError("--threads must be always or auto")
    }
    if maxChainDepth < 0 { throw ValidationError("--max-chain-depth must be 0 (no limit) or more") }
    if !["error", "warning", "never"].contains(failOn) {
      throw ValidationError("--fail-on must be error, warning or never")
    }
    if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
  }

  func run() throws {
    var options = CheckRun.Options(paths: paths)
    if paths.isEmpty && buildPath == nil && !hasDefaultDatabase { options.paths = ["."] }
    options.compilationDatabaseDirectory = buildPath
    options.extraArguments = ForkGuard.trailingArguments
    options.profile = profile.flatMap(SafetyProfile.init(rawValue:))
    options.configurationPath = config
    options.reportUnverifiable = reportUnverifiable
    options.maxChainDepth = maxChainDepth > 0 ? maxChainDepth : nil
    options.reportUnusedSuppressions = reportUnusedSuppressions
    options.threads = threads.flatMap(AnalysisOptions.Threads.init(rawValue:))
    options.baselinePath = baseline
    options.writeBaselinePath = writeBaseline
    options.diffRevision = diff
    options.jobs = jobs
    options.cacheDirectory = cacheDir
    options.usesCache = !noCache
    options.parsesEveryFile = parseAllFiles
    options.shard = shard.flatMap(parsedShard)
    options.writeFactsPath = writeFacts
    options.factsPaths = facts
    if timings {
      options.timings = { name, seconds in
        printError(
          "forkguard: " + name.padding(toLength: max(34, name.count), withPad: " ", startingAt: 0)
            + String(format: "%8.3f s", seconds))
      }
    }
    if paths.isEmpty && !facts.isEmpty { options.paths = [] }
    let bar = progress ? ProgressBar.onTerminal() : nil
    options.progress = bar.map { bar in { @Sendable done, total in bar.update(done, total) } }

    let result: CheckRun.Result
    do { result = try CheckRun.run(options) } catch {
      bar?.finish()
      printError("forkguard: error: \(error)")
      throw ExitCode(ExitStatus.trouble)
    }
    bar?.finish()
    if writeFacts != nil {
      for error in result.errors { printError("forkguard: error: \(error)") }
      printError("forkguard: wrote the facts of \(result.filesAnalysed) files (\(result.cacheHits) from the cache)")
      if !result.errors.isEmpty { throw ExitCode(ExitStatus.trouble) }
      return
    }
    try emit(result.diagnostics, format: format, output: output, terminal: .standardOutput, color: color)
    for error in result.errors { printError("forkguard: error: \(error)") }

    let findings = result.diagnostics.filter { $0.ruleID != nil && !$0.isSummary }
    // Every run ends with this line, a clean one too: "analysed nothing" must not look
    // like "all clean".
    let accepted = result.baselined > 0 ? " (\(result.baselined) more accepted by the baseline)" : ""
    let unparsed =
      result.notNeeded > 0
      ? "; \(result.notNeeded) of them cannot reach a fork, handler, thread or lock and were not parsed" : ""
    let counted = findings.isEmpty ? "no findings" : "\(findings.count) finding\(findings.count == 1 ? "" : "s")"
    printError(
      "forkguard: \(counted) in \(result.filesAnalysed) file\(result.filesAnalysed == 1 ? "" : "s") analysed\(accepted)\(unparsed)"
    )
    if let summary = Self.incompleteParseSummary(result) { printError(summary) }
    if !result.errors.isEmpty { throw ExitCode(ExitStatus.trouble) }
    let failing: Bool
    switch failOn {
    case "error": failing = findings.contains { $0.severity == .error }
    case "never": failing = false
    default: failing = findings.contains { $0.severity >= .warning }
    }
    if failing { throw ExitCode(ExitStatus.findings) }
  }

  /// One line for a run that parsed files without their build's flags: how many were
  /// incomplete, what they missed most, and how to give forkguard the real flags.
  static func incompleteParseSummary(_ result: CheckRun.Result) -> String? {
    guard result.incompleteParses > 0 else { return nil }
    let parsed = max(result.parsed + result.cacheHits, result.incompleteParses)
    let most = result.missingHeaders.first.map {
      "; most often for a missing '\($0.header)' (\($0.files) file\($0.files == 1 ? "" : "s"))"
    }
    return
      "forkguard: \(result.incompleteParses) of \(parsed) parsed files were incomplete\(most ?? ""); for full results give the build's flags with -p DIR and a compile_commands.json (bear -- make, or cmake -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)"
  }

  private func parsedShard(_ text: String) -> (index: Int, count: Int)? {
    let parts = text.split(separator: "/")
    guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, index >= 1,
      index <= count
    else { return nil }
    return (index, count)
  }

  private var hasDefaultDatabase: Bool {
    ["compile_commands.json", "build/compile_commands.json"].contains { FileManager.default.fileExists(atPath: $0) }
  }
}

struct Rules: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "List the rules.")

  func run() throws {
    let rules = RuleRegistry.descriptors
    let width = rules.map(\.id.count).max() ?? 0
    for rule in rules {
      let kind = rule.kind == .runtime ? "  (forkguard run)" : ""
      print(rule.id.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + rule.summary + kind)
    }
  }
}

struct Explain: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Print a rule's documentation.")

  @Argument(help: "A rule id, as `forkguard rules` lists them.")
  var rule: String

  func run() throws {
    guard RuleRegistry.descriptors.contains(where: { $0.id == rule }), let page = ForkGuardDocs.rulePage(rule) else {
      printError("forkguard: error: unknown rule '\(rule)'; `forkguard rules` lists them")
      throw ExitCode(ExitStatus.trouble)
    }
    print(page, terminator: page.hasSuffix("\n") ? "" : "\n")
  }
}

func printError(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}

struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a program under the preload library and report fork-safety problems it hits.",
    usage: "forkguard run [<options>] [--] PROGRAM [ARGUMENTS...]",
    discussion: """
      The program starts at the first argument that is not one of run's options; everything \
      after it is the program's, flags and `--` included.
      Every process in the program's tree loads libforkguard-preload.so. Its reports are \
      symbolized and printed as they arrive, on stderr (or to --output, and then not on \
      stderr), in the same form as `forkguard check`; JSON, SARIF and the other whole-document \
      formats are written when the program ends. SIGINT, SIGTERM and SIGHUP sent to forkguard \
      are passed on to the program. The exit status is the program's own.
      """
  )

  @Flag(help: "Record which locks each thread holds, so every fork reports the locks other threads held.")
  var track = false

  @Flag(help: "Report non-async-signal-safe calls (malloc, stdio, syslog, setenv…) in multithreaded fork children.")
  var unsafeCalls = false

  @Option(help: "What a fork child about to deadlock does: abort (default), edeadlk, or continue.")
  var onDeadlock: String?

  @Option(help: "Output format: \(ReporterRegistry.all.map { $0.name }.joined(separator: ", ")).")
  var format = "text"

  @Option(help: "Write the report to this file instead of stderr.")
  var output: String?

  @Option(help: "Colour the report on stderr: auto (on a terminal, unless NO_COLOR is set), always or never.")
  var color = "auto"

  /// forkguard-launcher (the installed `forkguard`) starts the program itself and this tool
  /// only when a report arrives, to print the reports it passes on through this descriptor.
  @Option(help: .hidden)
  var reportsFromFd: Int32?

  /// The options of `run` that take a value, so that value is not taken for the program.
  /// fg_launcher.c parses the same ones; a run it does not understand it leaves to this tool.
  static let optionsWithValues: Set<String> = [
    "--on-deadlock", "--format", "--output", "--color", "--reports-from-fd",
  ]

  /// Splits the words after `run` into run's own options and the program's command line:
  /// the program starts at the first word that is neither an option nor an option's value,
  /// or right after a `--` in that place.
  static func splitCommandLine(_ words: [String]) -> (own: [String], program: [String]) {
    var index = 0
    while index < words.count {
      let word = words[index]
      if word == "--" { return (Array(words[..<index]), Array(words[(index + 1)...])) }
      guard word.hasPrefix("-") else { break }
      index += optionsWithValues.contains(word) ? 2 : 1
    }
    index = min(index, words.count)
    return (Array(words[..<index]), Array(words[index...]))
  }

  func validate() throws {
    if !["auto", "always", "never"].contains(color) { throw ValidationError("--color must be auto, always or never") }
    if ForkGuard.trailingArguments.isEmpty {
      throw ValidationError("give the program to run, e.g. forkguard run ./server --port 8080")
    }
    if let onDeadlock, !["abort", "edeadlk", "continue"].contains(onDeadlock) {
      throw ValidationError("--on-deadlock must be abort, edeadlk or continue")
    }
    if ReporterRegistry.reporter(named: format) == nil { throw ValidationError("unknown format '\(format)'") }
  }

  func run() throws {
    if let reportsFromFd { try printReports(from: reportsFromFd) }
    let library: String
    do { library = try PreloadLibrary.locate() } catch {
      printError("forkguard: error: \(error)")
      throw ExitCode(ExitStatus.trouble)
    }
    let command = ForkGuard.trailingArguments
    var options = RuntimeRun.Options(program: command[0], arguments: Array(command.dropFirst()), library: library)
    options.track = track
    options.unsafeCalls = unsafeCalls
    options.onDeadlock = onDeadlock
    // Text is written as each report arrives (a daemon's show while it runs), to --output
    // when given, else stderr; a whole-document format (JSON, SARIF…) is written at the end.
    var live: LiveText?
    if format == TextReporter.name {
      do { live = try LiveText(output: output, color: color) } catch {
        printError("forkguard: error: \(output ?? "stderr"): cannot write: \(error)")
        throw ExitCode(ExitStatus.trouble)
      }
    }
    let result: RuntimeRun.Result
    do { result = try RuntimeRun.run(options, live: live.map { live in { live.write([$0]) } }) } catch {
      printError("forkguard: error: \(error)")
      throw ExitCode(ExitStatus.trouble)
    }
    try finish(result, live: live)
    throw ExitCode(result.exitStatus)
  }

  /// The launcher's reports, printed as `run` prints its own; the launcher exits with the
  /// program's status, this process with 0 unless the report could not be written.
  private func printReports(from descriptor: Int32) throws -> Never {
    // A terminal's ^C or hangup reaches the whole group; this process must outlive the
    // program to print what is left, and ends when the launcher closes the pipe.
    for signal in [SIGINT, SIGHUP, SIGTERM] { Glibc.signal(signal, SIG_IGN) }
    var live: LiveText?
    if format == TextReporter.name {
      // The launcher made the --output file, empty, when the program started.
      do { live = try LiveText(output: output, color: color, truncating: false) } catch {
        printError("forkguard: error: \(output ?? "stderr"): cannot write: \(error)")
        throw ExitCode(ExitStatus.trouble)
      }
    }
    let result = RuntimeRun.format(reportsFrom: descriptor, live: live.map { live in { live.write([$0]) } })
    try finish(result, live: live)
    throw ExitCode.success
  }

  private func finish(_ result: RuntimeRun.Result, live: LiveText?) throws {
    if !result.diagnostics.isEmpty && result.symbolizer == nil {
      printError("forkguard: note: no llvm-symbolizer or addr2line found; locations are module offsets")
    }
    if let live {
      live.write(
        result.repeated.map { diagnostic, processes in
          Diagnostic(
            ruleID: diagnostic.ruleID, severity: .note, location: diagnostic.location,
            message: "reported by \(processes) processes (the report above)")
        })
      live.close()
    } else {
      // run's --output replaces stderr (its help says so): the program's own stderr stays clean.
      try emit(
        result.diagnostics, format: format, output: output, terminal: .standardError, color: color,
        textBesideOutput: false)
    }
  }
}

/// `forkguard run`'s text, written as it comes: to the --output file (created empty at the
/// start, so it exists and is empty for a clean run) or stderr.
final class LiveText {
  private let handle: FileHandle
  private let ownsHandle: Bool
  private let reporter: TextReporter

  init(output: String?, color: String, truncating: Bool = true) throws {
    if let output {
      let exists =
        !truncating || FileManager.default.createFile(atPath: output, contents: nil)
        || FileManager.default.fileExists(atPath: output)
      guard exists, let handle = FileHandle(forWritingAtPath: output) else {
        throw CocoaError(.fileWriteNoPermission)
      }
      if truncating { try handle.truncate(atOffset: 0) } else { try handle.seekToEnd() }
      self.handle = handle
      ownsHandle = true
      reporter = TextReporter(paths: PathDisplay(), colors: false)
    } else {
      handle = .standardError
      ownsHandle = false
      reporter = TextReporter(paths: PathDisplay(), colors: terminalWantsColor(.standardError, color: color))
    }
  }

  func write(_ diagnostics: [Diagnostic]) {
    guard !diagnostics.isEmpty else { return }
    handle.write(Data(reporter.render(diagnostics).utf8))
  }

  func close() {
    if ownsHandle { try? handle.close() }
  }
}

/// Colours on `terminal`: always, never, or auto (a terminal, unless NO_COLOR or TERM=dumb).
func terminalWantsColor(_ terminal: FileHandle, color: String) -> Bool {
  // NO_COLOR (no-color.org) turns auto off; an explicit --color=always still wins.
  let environment = ProcessInfo.processInfo.environment
  return color == "always"
    || (color == "auto" && isatty(terminal.fileDescriptor) != 0 && (environment["NO_COLOR"] ?? "").isEmpty
      && environment["TERM"] != "dumb")
}

/// Renders `diagnostics` in `format`, to the `output` file when one is given (check's terminal
/// then still gets text, so one run serves both CI and the person watching it; run's does
/// not, `textBesideOutput: false`), else to `terminal`.
func emit(
  _ diagnostics: [Diagnostic], format: String, output: String?, terminal: FileHandle, color: String,
  textBesideOutput: Bool = true
) throws {
  let colors = terminalWantsColor(terminal, color: color)
  let terminalText = TextReporter(paths: PathDisplay(), colors: colors)
  let paths = PathDisplay()
  // The rule pages ride along for formats that embed them (SARIF's help.markdown).
  let rules = RuleRegistry.descriptors.map { rule in
    var described = rule
    described.helpMarkdown = ForkGuardDocs.rulePage(rule.id)
    return described
  }
  let chosen = ReporterRegistry.reporter(named: format)!.init(paths: paths, rules: rules)
  guard let output else {
    let text = format == TextReporter.name ? terminalText.render(diagnostics) : chosen.render(diagnostics)
    terminal.write(Data(text.utf8))
    return
  }
  // A regular file is replaced whole (a reader never sees half a report); anything else
  // (/dev/null, a FIFO, /dev/stdout) is written in place: renaming over it would replace
  // the device or pipe with a file.
  var status = stat()
  let inPlace = stat(output, &status) == 0 && (status.st_mode & S_IFMT) != S_IFREG
  do { try chosen.render(diagnostics).write(toFile: output, atomically: !inPlace, encoding: .utf8) } catch {
    printError("forkguard: error: \(output): cannot write: \(error.localizedDescription)")
    throw ExitCode(ExitStatus.trouble)
  }
  if textBesideOutput { terminal.write(Data(terminalText.render(diagnostics).utf8)) }
}

struct Version: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print forkguard's version and the libclang it runs on (also: forkguard --version).")

  /// "forkguard 0.5.0 (libclang: Debian clang version 14.0.6)"
  static var text: String { "forkguard \(ForkGuardVersion.current) (libclang: \(LibClangVersion.description))" }

  func run() { print(Self.text) }
}

struct LSP: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lsp",
    abstract: "Serve the Language Server Protocol over stdin and stdout, for editors."
  )

  func run() throws {
    throw ExitCode(LanguageServer().serve())
  }
}
