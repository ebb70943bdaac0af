import Dispatch
import ForkGuardC
import ForkGuardCore
import ForkGuardSwift
import Foundation

/// Phase 3 of a check, parsing through the cache: the files the rules can reach (or every
/// file) become facts, from the cache where it holds them, on `--jobs` threads; facts that
/// shards wrote are merged in.
struct ParsedFacts {
  var facts: [FileFacts]
  /// `parse incomplete` notes, one per file clang could not parse whole.
  var notes: [Diagnostic] = []
  /// Files that could not be parsed, each named with its problem.
  var errors: [String] = []
  var parsed = 0
  var cacheHits = 0
  /// Inputs left unparsed because they cannot reach what the rules judge.
  var notNeeded = 0
  var incompleteParses = 0
  /// The headers incomplete parses missed, most missed first.
  var missingHeaders: [(header: String, files: Int)] = []
}

enum FactsParsing {
  static func run(
    _ inputs: CheckInputs, arguments: ParseArguments, configuration: LoadedConfiguration,
    options: CheckRun.Options, clock: PhaseClock
  ) throws -> ParsedFacts {
    let files = inputs.files
    let cache = factsCache(options, configuration: configuration)
    // Shards write facts for others to merge, so they cannot know what those will need.
    var demand: ParseDemand?
    if !options.parsesEveryFile, options.shard == nil, options.writeFactsPath == nil, options.factsPaths.isEmpty {
      let knowledges =
        try [configuration.parsingKnowledge]
        + configuration.configurations.groups(of: files).map { try configuration.knowledge(for: $0) }
      demand = ParseDemand(
        scans: options.session?.scans,
        files: files, arguments: arguments.callAsFunction, unsaved: options.unsavedFiles, knowledges: knowledges)
      clock.end("scan")
    }
    let prefixHeaders = Self.prefixHeaders(files: files, arguments: arguments.callAsFunction)
    let outcomes = parse(
      files, jobs: options.jobs, knowledge: configuration.parsingKnowledge, unsaved: options.unsavedFiles,
      cache: cache, demand: demand, editorUnits: options.session?.editorUnits, prefixHeaders: prefixHeaders,
      progress: options.progress, arguments: arguments.callAsFunction)
    cache?.prune(limit: 4 * files.count + 32)
    let precompiled = prefixHeaders?.builtCount ?? 0
    clock.end(
      "parse (\(outcomes.count) of \(files.count) files"
        + (precompiled > 0 ? ", \(precompiled) prefix\(precompiled == 1 ? "" : "es") precompiled)" : ")"))

    var result = ParsedFacts(facts: [])
    result.cacheHits = cache?.hits ?? 0
    result.parsed = outcomes.count - result.cacheHits
    result.notNeeded = files.count - outcomes.count
    var missingHeaders: [String: Int] = [:]
    for (_, outcome) in outcomes {
      switch outcome {
      case .success(let fileFacts):
        result.facts.append(fileFacts)
        if let problem = fileFacts.parseProblem {
          result.incompleteParses += 1
          for header in Set(problem.missingHeaders) { missingHeaders[header, default: 0] += 1 }
          let more = problem.errorCount > 1 ? " (and \(problem.errorCount - 1) more errors)" : ""
          result.notes.append(
            Diagnostic(
              ruleID: nil, severity: .note, location: problem.location,
              message: "parse incomplete: \(problem.message)\(more); analysed as far as clang recovered"))
        }
      case .failure(let error):
        // Named as the user named it: relative to where forkguard runs.
        let text = "\(error)"
        let base = options.base.hasSuffix("/") ? options.base : options.base + "/"
        result.errors.append(text.hasPrefix(base) ? String(text.dropFirst(base.count)) : text)
      }
    }
    result.missingHeaders = missingHeaders.map { (header: $0.key, files: $0.value) }.sorted {
      ($1.files, $0.header) < ($0.files, $1.header)
    }
    // A shard's facts are written as parsed; merging is the rules' run's.
    guard options.writeFactsPath == nil else { return result }
    for path in options.factsPaths {
      let loaded = try FactsFile.load(path: path)
      let known = Set(result.facts.map(\.path))
      result.facts += loaded.facts.filter { !known.contains($0.path) }
    }
    clock.end("load facts")
    return result
  }

  /// The facts cache this check reads and fills, if it uses one.
  static func factsCache(_ options: CheckRun.Options, configuration: LoadedConfiguration) -> FactsCache? {
    guard options.usesCache else { return nil }
    return FactsCache(
      directory: options.cacheDirectory ?? FactsCache.defaultDirectory(base: options.base),
      salt: ForkGuardVersion.current + "|" + BuildIdentity.current + "|"
        + configuration.parsingKnowledge.parsingFingerprint, memory: options.session?.facts)
  }

  /// The run's shared precompiled prefixes; FORKGUARD_NO_PREFIX_PCH=1 parses every
  /// file whole (to compare the two).
  static func prefixHeaders(files: [String], arguments: @escaping @Sendable (String) -> [String]) -> PrefixHeaders? {
    ProcessInfo.processInfo.environment["FORKGUARD_NO_PREFIX_PCH"] == nil
      ? PrefixHeaders(files: files, arguments: arguments) : nil
  }

  /// Parses files on `jobs` threads, each with its own libclang index: every file, or those
  /// `demand` asks for as it learns what the rules can reach. Results come in file order,
  /// so output does not depend on scheduling. `prefixHeaders`: the caller's (nil inside:
  /// none), or made here for `files` when not given.
  static func parse(
    _ files: [String], jobs: Int, knowledge: Knowledge, unsaved: [String: String] = [:], cache: FactsCache? = nil,
    demand: ParseDemand? = nil, editorUnits: CEditorUnits? = nil, prefixHeaders: PrefixHeaders?? = nil,
    progress: (@Sendable (Int, Int) -> Void)?,
    arguments: @escaping @Sendable (String) -> [String]
  ) -> [(index: Int, result: Swift.Result<FileFacts, Error>)] {
    let prefixHeaders = prefixHeaders ?? Self.prefixHeaders(files: files, arguments: arguments)
    let results = FactsByFile()
    let queue = ParseQueue(
      initial: demand?.initial ?? Array(files.indices),
      whenFinished: { result in
        guard let demand, case .success(let facts) = result else { return [] }
        return demand.needed(after: facts)
      },
      whenIdle: { demand?.neededWhenSettled() ?? [] })
    let unsavedHeader = unsaved.keys.contains { !$0.hasSuffix(".c") && !$0.hasSuffix(".swift") }
    let workers = max(1, min(jobs, files.count))
    CFrontEnd.parseOnCallingThreads()
    let done = DispatchGroup()
    for _ in 0..<workers {
      done.enter()
      // Deeply nested C (long else-if chains, generated code) recurses deeply in libclang and
      // in the lowering: give each worker a large stack rather than Dispatch's default.
      let thread = Thread {
        defer { done.leave() }
        let frontEnd = CFrontEnd(knowledge: knowledge, prefixHeaders: prefixHeaders)
        let swiftFrontEnd = SwiftFrontEnd(knowledge: knowledge)
        while let index = queue.next() {
          let file = files[index]
          let result: Swift.Result<FileFacts, Error>
          if file.hasSuffix(".swift") {
            result = Swift.Result { FactsCoding.interned(try swiftFrontEnd.facts(for: file, text: unsaved[file])) }
          } else {
            let flags = arguments(file)
            result = Swift.Result {
              // An editor buffer is parsed afresh: its text is not what the cache saw. An open
              // header could change any file that includes it, so then nothing is cached.
              if let cache, unsaved[file] == nil, !unsavedHeader, let kept = cache.kept(file: file, arguments: flags) {
                return kept
              }
              // Stamped before it is read: a change made meanwhile does not match later.
              let stamp = FileStamp(file)
              guard let cache, unsaved[file] == nil, !unsavedHeader,
                let content = FileManager.default.contents(atPath: file)
              else {
                // The language server's open file: its headers' preamble is kept between edits.
                if unsaved[file] != nil, let editorUnits,
                  let facts = editorUnits.facts(for: file, arguments: flags, unsaved: unsaved, knowledge: knowledge)
                {
                  return FactsCoding.interned(facts)
                }
                return FactsCoding.interned(try frontEnd.facts(for: file, arguments: flags, unsaved: unsaved))
              }
              if let cached = cache.lookup(file: file, arguments: flags, content: content, stamp: stamp) {
                return cached
              }
              let facts = try frontEnd.facts(for: file, arguments: flags)
              cache.store(file: file, arguments: flags, content: content, facts: facts, stamp: stamp)
              return FactsCoding.interned(facts)
            }
          }
          results.set(index, result)
          let (done, total) = queue.finish(result)
          progress?(done, total)
        }
      }
      thread.stackSize = 256 << 20
      thread.start()
    }
    done.wait()
    withExtendedLifetime(prefixHeaders) {}
    return results.values
  }
}
