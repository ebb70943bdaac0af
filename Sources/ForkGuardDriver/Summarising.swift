import ForkGuardCore

/// Phase 5 of a check, summarising: for each configuration in force (usually one), what
/// calls do to the process and where fork children run, whether a thread may be running at
/// each fork, and the lock summaries, all of which the rules read. Each analysis reports its
/// own time.
enum Summarising {
  struct Group {
    /// The configuration whose files this group's findings are kept for.
    var configuration: Configuration
    var input: AnalysisInput
  }

  static func run(
    _ program: ProgramGraph, files: [String], configuration: LoadedConfiguration, options: CheckRun.Options,
    clock: PhaseClock
  ) throws -> [Group] {
    try configuration.configurations.groups(of: files).map { group in
      Group(
        configuration: group,
        input: AnalysisInput(
          program: program, knowledge: try configuration.knowledge(for: group),
          options: AnalysisOptions(
            reportUnverifiable: options.reportUnverifiable, threads: options.threads ?? group.threads ?? .auto,
            maxChainDepth: options.maxChainDepth), phase: clock.end))
    }
  }
}
