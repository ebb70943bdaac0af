import ArgumentParser
import ForkGuardCore
import ForkGuardDocs
import ForkGuardDriver
import ForkGuardReporters
import ForkGuardRules
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
      "Finds fork-safety bugs in C: non-async-signal-safe calls in fork children, vfork children, signal and atfork handlers.",
    subcommands: [Check.self, Rules.self, Explain.self],
    defaultSubcommand: Check.self
  )

  /// Compiler flags after `--`, as clang-tidy takes them. ArgumentParser cannot hold them
  /// next to a list of paths, so they are split off before parsing.
  nonisolated(unsafe) static var compilerArguments: [String] = []

  /// ArgumentParser's own exit code for usage errors is 64; forkguard promises 2.
  static func main() {
    var arguments = Array(CommandLine.arguments.dropFirst())
    if let terminator = arguments.firstIndex(of: "--") {
      compilerArguments = Array(arguments[(terminator + 1)...])
      arguments.removeSubrange(terminator...)
    }
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        print(fullMessage(for: error))
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
    abstract: "Analyse C files and directories.",
    discussion: """
      Directories are searched for .c files, skipping .build, .git and build folders. \
      compile_commands.json is read from -p DIR, or from . or build/ when present. \
      Flags after -- are passed to the compiler, as with clang-tidy: forkguard check src -- -DNDEBUG -Iinclude
      Exit status: 0 nothing found, 1 findings, 2 usage error or input that could not be analysed.
      """
  )

  @Argument(help: "Files or directories to analyse (default: the compilation database's files, or .).")
  var paths: [String] = []

  @Option(name: .customShort("p"), help: "Directory holding compile_commands.json (or the file itself).")
  var buildPath: String?

  @Option(help: "Async-signal-safety profile: posix-2024, posix-2017 or glibc.")
  var profile: String?

  @Option(help: "Configuration file (default: the nearest .forkguard.yml).")
  var config: String?

  @Option(help: "Output format: \(ReporterRegistry.all.map { $0.name }.joined(separator: ", ")).")
  var format = "text"

  @Flag(help: "Report calls to functions that have no definition and no safety data.")
  var reportUnverifiable = false

  @Option(help: "Parse this many files at once.")
  var jobs = ProcessInfo.processInfo.activeProcessorCount

  func validate() throws {
    if let profile, SafetyProfile(rawValue: profile) == nil {
      throw ValidationError(
        "unknown profile '\(profile)'; choose \(SafetyProfile.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    if ReporterRegistry.reporter(named: format) == nil {
      throw ValidationError("unknown format '\(format)'")
    }
    if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
  }

  func run() throws {
    var options = CheckRun.Options(paths: paths)
    if paths.isEmpty && buildPath == nil && !hasDefaultDatabase { options.paths = ["."] }
    options.compilationDatabaseDirectory = buildPath
    options.extraArguments = ForkGuard.compilerArguments
    options.profile = profile.flatMap(SafetyProfile.init(rawValue:))
    options.configurationPath = config
    options.reportUnverifiable = reportUnverifiable
    options.jobs = jobs

    let result: CheckRun.Result
    do { result = try CheckRun.run(options) } catch {
      printError("forkguard: error: \(error)")
      throw ExitCode(ExitStatus.trouble)
    }
    let reporter = ReporterRegistry.reporter(named: format)!.init(paths: PathDisplay())
    FileHandle.standardOutput.write(Data(reporter.render(result.diagnostics).utf8))
    for error in result.errors { printError("forkguard: error: \(error)") }

    let findings = result.diagnostics.filter { $0.ruleID != nil }.count
    if findings > 0 {
      printError(
        "forkguard: \(findings) warning\(findings == 1 ? "" : "s") in \(result.filesAnalysed) file\(result.filesAnalysed == 1 ? "" : "s") analysed"
      )
    }
    if !result.errors.isEmpty { throw ExitCode(ExitStatus.trouble) }
    if findings > 0 { throw ExitCode(ExitStatus.findings) }
  }

  private var hasDefaultDatabase: Bool {
    ["compile_commands.json", "build/compile_commands.json"].contains { FileManager.default.fileExists(atPath: $0) }
  }
}

struct Rules: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "List the rules.")

  func run() throws {
    let width = RuleRegistry.all.map(\.id.count).max() ?? 0
    for rule in RuleRegistry.all {
      print(rule.id.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + rule.summary)
    }
  }
}

struct Explain: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Print a rule's documentation.")

  @Argument(help: "A rule id, as `forkguard rules` lists them.")
  var rule: String

  func run() throws {
    guard RuleRegistry.rule(id: rule) != nil, let page = ForkGuardDocs.rulePage(rule) else {
      printError("forkguard: error: unknown rule '\(rule)'; `forkguard rules` lists them")
      throw ExitCode(ExitStatus.trouble)
    }
    print(page, terminator: page.hasSuffix("\n") ? "" : "\n")
  }
}

func printError(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}
