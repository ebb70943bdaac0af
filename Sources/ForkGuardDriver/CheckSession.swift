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
