import ForkGuardCore
import Foundation

/// A whole check's outcome kept between runs, replayed when nothing that decides it has
/// changed: the inputs, the headers their parses read, each parsed file's facts, the
/// configuration, the rules' data, the build's link information, the tool and its options.
///
/// A warm run with no change used to decode every cached file's facts and run the program
/// graph, summaries and rules again (postgresql-15: 10 s, 0.21x of `clang -fsyntax-only`;
/// issue 17). Checked here in order of cost: the key (options, configuration, data, link
/// information and every file's flags); every input's and header's size and modification
/// time; and, for the parsed files whose stamp moved (a touched file, an edited comment),
/// their facts again, through the facts cache, against the digest kept here. Facts that
/// came out the same decide the same findings: the early cut-off of a build system.
///
/// What is kept is the rules' findings before suppressions and the baseline: those are
/// applied again on every run, as they read comments the facts do not hold.
///
/// The language server keeps its record in its session, with the text of each editor
/// buffer: an edited buffer's facts are compared in the lines of its text before the edit
/// (LineShift), so an edit that only adds or removes lines the facts do not mention (a
/// comment, a blank line) moves the findings below it instead of running every phase.
struct RunRecord: Codable, Sendable {
  /// Size and modification time.
  struct Stamp: Codable, Equatable, Sendable {
    var size: Int
    var modified: Int
    init(_ stamp: FileStamp) {
      size = stamp.size
      modified = stamp.modified
    }
  }
  /// An input or a header: its content's hash as well, so that a file touched or rewritten
  /// with the same bytes (a fresh checkout in CI, switching branches and back) still matches.
  struct Content: Codable, Sendable {
    var stamp: Stamp
    var hash: String
  }
  struct ParsedFile: Codable, Sendable {
    var digest: String
    /// How many calls the file's own functions make: an edit that adds or takes away a call
    /// differs here, and the digest of the edited buffer need not be made to tell.
    var calls: Int?
  }
  struct Outcome: Codable, Sendable {
    var findings: [Diagnostic]
    /// Notes of the parse (incomplete parses), reported as they were.
    var notes: [Diagnostic]
    var parseErrors: [String]
    var parsedFiles: Int
    var notNeeded: Int
    var incompleteParses: Int
    var missingHeaders: [MissingHeader]
  }
  struct MissingHeader: Codable, Sendable {
    var header: String
    var files: Int
  }

  static let version = 2

  var version = RunRecord.version
  var key: String
  /// Every input, parsed or not (an unparsed one that changes may be needed now), but the
  /// editor's buffers.
  var inputs: [String: Content]
  /// The editor's buffers (the language server's records only), by path.
  var texts: [String: String] = [:]
  var dependencyPaths: [String]
  var dependencies: [Content]
  var parsed: [String: ParsedFile]
  var outcome: Outcome
}

/// Reads and writes run records, and decides whether one still holds.
struct RunCache {
  /// What the record must be for: nil when this check cannot be replayed (see `eligible`).
  let key: String
  /// Where the record is kept: a file in the cache folder, or the language server's session.
  let file: URL
  let session: CheckSession?
  /// The editor's buffers, by path.
  let texts: [String: String]
  /// When the check began: a file modified after this may have been read half-changed, so
  /// a run that sees one keeps no record.
  let began = Date()

  /// A check whose outcome depends only on what the key, the stamps and the buffers' text
  /// cover. Not: shards and merged facts, `--diff` (git's state), writing or reading a
  /// baseline (keyed by the program graph, which a replay does not build), `--no-cache`,
  /// and an unsaved header (it changes every file that includes it, which the record cannot
  /// follow).
  static func eligible(_ options: CheckRun.Options) -> Bool {
    options.usesCache && options.shard == nil && options.writeFactsPath == nil && options.factsPaths.isEmpty
      && options.diffRevision == nil && options.baselinePath == nil && options.writeBaselinePath == nil
      && options.unsavedFiles.keys.allSatisfy { $0.hasSuffix(".c") || $0.hasSuffix(".swift") }
  }

  init?(
    options: CheckRun.Options, configuration: LoadedConfiguration, inputs: CheckInputs, arguments: ParseArguments,
    link: LinkInformation
  ) throws {
    guard Self.eligible(options) else { return nil }
    var hash = ContentHash()
    hash.add("run \(RunRecord.version)|\(FactsCache.schema)|\(ForkGuardVersion.current)|\(BuildIdentity.current)")
    hash.add("base \(options.base)|paths \(options.paths)|database \(options.compilationDatabaseDirectory ?? "")")
    hash.add("profile \(options.profile?.rawValue ?? "")|config \(options.configurationPath ?? "")")
    hash.add("search \(options.searchesConfiguration)|unverifiable \(options.reportUnverifiable)")
    hash.add(
      "depth \(options.maxChainDepth.map(String.init) ?? "all")|threads \(options.threads.map { "\($0)" } ?? "")")
    hash.add("unused \(options.reportUnusedSuppressions)|every \(options.parsesEveryFile)")
    hash.add("rules \(options.rules.map(\.id))")
    hash.add("buffers \(options.unsavedFiles.keys.sorted())")
    // Every configuration in force, by content: a new `.forkguard.yml` in a folder changes
    // the paths, an edited one the bytes.
    for path in try configuration.configurationFiles(of: inputs.files) {
      hash.add("configuration \(path)")
      hash.add(FileManager.default.contents(atPath: path) ?? Data())
    }
    // The rules' data (safe lists, registrations, thread starters), installed beside the tool.
    hash.add("data \(Knowledge.dataFingerprint())")
    hash.add("link \(link.fingerprint)")
    for file in inputs.files {
      hash.add("file \(file)")
      for argument in arguments(file) { hash.add(argument) }
    }
    key = hash.hex
    session = options.session
    texts = options.unsavedFiles
    let directory = URL(fileURLWithPath: options.cacheDirectory ?? FactsCache.defaultDirectory(base: options.base))
    var base = ContentHash()
    base.add(options.base)
    // One record per project folder: a new key replaces the old one.
    file = directory.appendingPathComponent("runs").appendingPathComponent(base.hex + ".run")
  }

  func load() -> RunRecord? {
    if let session {
      guard let record = session.runRecord.withLock({ $0 }), record.key == key else { return nil }
      return record
    }
    guard let data = try? Data(contentsOf: file), let record = try? JSONDecoder().decode(RunRecord.self, from: data),
      record.version == RunRecord.version, record.key == key
    else { return nil }
    return record
  }

  /// What moved since the record: inputs whose content differs (their stamp first; the
  /// content only when that moved) and buffers whose text does. Nil when an input came or
  /// went, or a header's content changed.
  func changedFiles(_ record: RunRecord, inputs: [String]) -> Set<String>? {
    // The key holds the buffers' paths, so the record has the same ones.
    let onDisk = inputs.filter { texts[$0] == nil }
    guard onDisk.count == record.inputs.count else { return nil }
    var changed = Set<String>()
    for file in onDisk {
      guard let recorded = record.inputs[file] else { return nil }
      if FileStamp(file).map(RunRecord.Stamp.init) != recorded.stamp, Self.contentHash(file) != recorded.hash {
        changed.insert(file)
      }
    }
    // A buffer that is not an input (outside the folders checked) is not analysed.
    for file in inputs where texts[file] != nil && texts[file] != record.texts[file] { changed.insert(file) }
    // A header whose content changed: the functions it defines, and what every includer
    // makes of it, are a whole run's to compare (`digest`). Touched but the same is fine.
    for (index, dependency) in record.dependencies.enumerated() {
      let path = record.dependencyPaths[index]
      guard let now = FileStamp(path) else { return nil }
      if RunRecord.Stamp(now) != dependency.stamp, Self.contentHash(path) != dependency.hash { return nil }
    }
    return changed
  }

  /// The record once the changed files' facts came out the same: today's stamps and texts,
  /// their facts' digests (by path, in today's lines), and the outcome as replayed (its
  /// places moved with the buffers).
  func updated(_ record: RunRecord, digests: [String: String], outcome: RunRecord.Outcome) -> RunRecord? {
    var record = record
    for (file, recorded) in record.inputs {
      guard let stamp = FileStamp(file), !isRecent(stamp) else { return nil }
      if RunRecord.Stamp(stamp) != recorded.stamp {
        record.inputs[file] = RunRecord.Content(stamp: RunRecord.Stamp(stamp), hash: Self.contentHash(file))
      }
    }
    for (index, path) in record.dependencyPaths.enumerated() {
      guard let stamp = FileStamp(path), !isRecent(stamp) else { return nil }
      if RunRecord.Stamp(stamp) != record.dependencies[index].stamp {
        record.dependencies[index] = RunRecord.Content(stamp: RunRecord.Stamp(stamp), hash: Self.contentHash(path))
      }
    }
    for (path, digest) in digests { record.parsed[path]?.digest = digest }
    record.texts = texts
    record.outcome = outcome
    return record
  }

  /// A record of this run, or nil when a file changed while it ran. What the last record
  /// (of the same key) says of a file whose stamp has not moved is taken from it: the
  /// content's hash, and a file's digest when its headers have not moved either (a language
  /// server's whole run after an edit would read and hash every file again).
  func record(inputs: [String], facts: [FileFacts], previous: RunRecord?, outcome: RunRecord.Outcome) -> RunRecord? {
    var previousDependencies: [String: RunRecord.Content] = [:]
    if let previous {
      for (index, path) in previous.dependencyPaths.enumerated() {
        previousDependencies[path] = previous.dependencies[index]
      }
    }
    func content(_ path: String, _ stamp: FileStamp, was: RunRecord.Content?) -> RunRecord.Content {
      let stamp = RunRecord.Stamp(stamp)
      if let was, was.stamp == stamp { return was }
      return RunRecord.Content(stamp: stamp, hash: Self.contentHash(path))
    }
    var stamps: [String: RunRecord.Content] = [:]
    for file in inputs where texts[file] == nil {
      guard let stamp = FileStamp(file), !isRecent(stamp) else { return nil }
      stamps[file] = content(file, stamp, was: previous?.inputs[file])
    }
    var dependencyPaths: [String] = []
    /// Each header's content, and whether its stamp is the previous record's. Most files
    /// include the same headers: one look-up per file and header, not three (the paths are
    /// long, and hashing them was most of this phase).
    var dependencies: [String: (content: RunRecord.Content, unmoved: Bool)] = [:]
    var parsed: [String: RunRecord.ParsedFile] = [:]
    for fileFacts in facts {
      var unmoved =
        texts[fileFacts.path] == nil && stamps[fileFacts.path] != nil
        && previous?.inputs[fileFacts.path]?.stamp == stamps[fileFacts.path]?.stamp
      for path in fileFacts.dependencies {
        if let known = dependencies[path] {
          unmoved = unmoved && known.unmoved
          continue
        }
        guard let stamp = FileStamp(path), !isRecent(stamp) else { return nil }
        dependencyPaths.append(path)
        let was = previousDependencies[path]
        let content = content(path, stamp, was: was)
        let same = was?.stamp == content.stamp
        dependencies[path] = (content, same)
        unmoved = unmoved && same
      }
      if unmoved, let kept = previous?.parsed[fileFacts.path] {
        parsed[fileFacts.path] = kept
      } else {
        parsed[fileFacts.path] = RunRecord.ParsedFile(
          digest: Self.digest(fileFacts) ?? "", calls: Self.callCount(fileFacts))
      }
    }
    let dependencyContents = dependencyPaths.map { dependencies[$0]!.content }
    return RunRecord(
      key: key, inputs: stamps, texts: texts, dependencyPaths: dependencyPaths, dependencies: dependencyContents,
      parsed: parsed, outcome: outcome)
  }

  func store(_ record: RunRecord) {
    if let session {
      session.runRecord.withLock { $0 = record }
      return
    }
    guard let data = try? JSONEncoder().encode(record) else { return }
    AtomicFile.write(data, to: file)
  }

  /// The calls the file's own functions make (those a digest covers).
  static func callCount(_ facts: FileFacts) -> Int {
    facts.functions.reduce(0) { $0 + ($1.location.file == facts.path ? $1.calls.count : 0) }
  }

  /// A file's facts in their cache encoding, hashed: equal digests, equal facts, but for an
  /// integer argument that is its call's line number or up to ten more, which counts as
  /// `__LINE__` by its distance from the call (the analysis decides nothing with it unless a
  /// branch compares it with a line number between the old and the new one). Only the
  /// functions the file itself defines count: a function defined in a header is kept in one
  /// includer's facts per run (FactsByFile), so a file parsed alone has more; those follow
  /// the header, whose change the record never replays (`changedFiles`). With `shift`, every
  /// place (and symbol that holds one) in the lines the edited text had before.
  static func digest(_ facts: FileFacts, moving shift: LineShift? = nil) -> String? {
    var own = facts
    own.functions = facts.functions.filter { $0.location.file == facts.path }
    var writer = FactsWriter()
    if let shift {
      writer.relocation = { shift.backward($0) }
      writer.symbolRelocation = { shift.backward(symbol: $0) }
    }
    writer.lineNumberArgumentsAsDistances = true
    writer.file(own)
    guard !writer.unplaced else { return nil }
    var hash = ContentHash()
    hash.add(Data(writer.bytes))
    return hash.hex
  }

  private static func contentHash(_ path: String) -> String { ContentHash.of(path: path) ?? "" }

  /// Modified within two seconds of the check's start or after it: possibly mid-edit.
  private func isRecent(_ stamp: FileStamp) -> Bool {
    Double(stamp.modified) / 1e9 >= began.timeIntervalSince1970 - 2
  }
}
