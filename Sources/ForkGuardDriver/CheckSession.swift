import ForkGuardC
import ForkGuardCore
import Foundation
import Synchronization

/// What a long-lived caller (the language server) keeps from one check to the next, so a
/// check after an edit reads, scans and decodes only what changed: file scans, facts, and
/// which files hold no suppression comment. Everything is checked against the file's size
/// and modification time (facts against their cache key and header stamps) before reuse.
public final class CheckSession: Sendable {
  let scans = ScanMemo()
  let facts = FactsMemory()
  /// The editor's open C files, parsed with their headers' preamble kept between edits.
  let editorUnits = CEditorUnits()
  private let withoutSuppressions = Mutex([String: FileStamp]())
  /// The last check's run record: the next check replays it when nothing it depends on
  /// moved but lines of the buffers (RunRecord).
  let runRecord = Mutex<RunRecord?>(nil)
  /// Knowledge bases by profile and overrides: made from the bundled data alone, the same
  /// inputs make the same knowledge, and decoding the data was a fifth of a replayed check.
  let knowledgeBases = Mutex([KnowledgeKey: Knowledge]())
  /// The last compilation database read, with its file's stamp taken before the read.
  let compilationDatabase = Mutex<KeptDatabase?>(nil)

  struct KnowledgeKey: Hashable {
    var profile: SafetyProfile
    var overrides: KnowledgeOverrides
  }

  struct KeptDatabase: Sendable {
    var path: String
    var stamp: FileStamp
    var database: CompilationDatabase
  }

  /// The knowledge for a profile and overrides, made once per session.
  public func knowledge(profile: SafetyProfile, overrides: KnowledgeOverrides) throws -> Knowledge {
    let key = KnowledgeKey(profile: profile, overrides: overrides)
    if let known = knowledgeBases.withLock({ $0[key] }) { return known }
    let made = try Knowledge(profile: profile, overrides: overrides)
    knowledgeBases.withLock { $0[key] = made }
    return made
  }

  /// The database at `path`, read again only when its file changed (or cannot be stat'ed).
  public func compilationDatabase(at path: String) throws -> CompilationDatabase {
    let stamp = FileStamp(path)
    if let stamp, let kept = compilationDatabase.withLock({ $0 }), kept.path == path, kept.stamp == stamp,
      stamp.modified < FileStamp.now() - 1_000_000_000
    {
      return kept.database
    }
    let database = try CompilationDatabase(path: path)
    if let stamp { compilationDatabase.withLock { $0 = KeptDatabase(path: path, stamp: stamp, database: database) } }
    return database
  }

  public init() {}

  /// Whether the file on disk, as `stamp` finds it, was seen to hold no suppression comment.
  func holdsNoSuppression(_ path: String, stamp: FileStamp?) -> Bool {
    guard let stamp else { return false }
    return withoutSuppressions.withLock { $0[path] } == stamp
  }

  /// Records that the file held no suppression when it was read; `stamp` must be taken
  /// before the read, so a change made meanwhile leaves a stamp that no longer matches.
  func noteNoSuppression(_ path: String, stamp: FileStamp?) {
    guard let stamp else { return }
    withoutSuppressions.withLock { $0[path] = stamp }
  }
}
