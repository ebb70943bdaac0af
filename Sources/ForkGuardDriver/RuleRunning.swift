import ForkGuardCore

/// Phase 6 of a check, running the rules: each group's rules keep the findings in the files
/// its configuration governs, at the severity it sets; a call several contexts reach becomes
/// one finding.
enum RuleRunning {
  static func run(
    _ groups: [Summarising.Group], rules: [any Rule], configuration: LoadedConfiguration
  ) -> [Diagnostic] {
    var findings: [Diagnostic] = []
    for group in groups {
      var seen = Set<Diagnostic>()
      for rule in rules {
        rule.check(group.input) { diagnostic in
          guard seen.insert(diagnostic).inserted,
            (try? configuration.configurations.configuration(for: diagnostic.location.file).path)
              == group.configuration.path
          else { return }
          var adjusted = diagnostic
          if let setting = group.configuration.ruleSeverities[rule.id] {
            guard let severity = setting else { return }
            adjusted.severity = severity
          }
          findings.append(adjusted)
        }
      }
    }
    return Diagnostic.mergedByCallSite(findings)
  }
}
