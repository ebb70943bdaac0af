import ForkGuardC
import ForkGuardCore
import Foundation
import Synchronization

/// The files the parse workers take, in the order given; more may be added as results
/// arrive (what a parsed file's facts show is needed), and when the queue runs dry with no
/// parse under way (`whenIdle`), before the workers are let go.
///
/// Unchecked: every stored property is read and written only with `condition` locked, and
/// the workers wait on that same condition, which `Mutex` cannot offer.
final class ParseQueue: @unchecked Sendable {
  private let condition = NSCondition()
  private var queue: [Int]
  private var head = 0
  private var queued: Set<Int>
  private var busy = 0
  private var done = 0
  private var finished = false
  private let whenFinished: (Swift.Result<FileFacts, Error>) -> [Int]
  private let whenIdle: () -> [Int]

  /// Both closures run under the queue's lock, one at a time.
  init(
    initial: [Int], whenFinished: @escaping (Swift.Result<FileFacts, Error>) -> [Int] = { _ in [] },
    whenIdle: @escaping () -> [Int] = { [] }
  ) {
    var seen = Set<Int>()
    queue = initial.filter { seen.insert($0).inserted }
    queued = seen
    self.whenFinished = whenFinished
    self.whenIdle = whenIdle
  }

  /// The next file to parse, waiting while others' results may still add some; nil when
  /// all is done.
  func next() -> Int? {
    condition.lock()
    defer { condition.unlock() }
    while true {
      if head < queue.count {
        busy += 1
        head += 1
        return queue[head - 1]
      }
      if finished { return nil }
      if busy == 0 {
        if !add(whenIdle()) {
          finished = true
          condition.broadcast()
          return nil
        }
        continue
      }
      condition.wait()
    }
  }

  /// Records a parse's result; returns how many files are done and how many are queued
  /// so far, for progress.
  func finish(_ result: Swift.Result<FileFacts, Error>) -> (done: Int, total: Int) {
    condition.lock()
    defer { condition.unlock() }
    busy -= 1
    done += 1
    _ = add(whenFinished(result))
    condition.broadcast()
    return (done, queued.count)
  }

  private func add(_ indices: [Int]) -> Bool {
    let fresh = indices.filter { queued.insert($0).inserted }
    queue += fresh
    return !fresh.isEmpty
  }
}

/// Which files a check must parse: those that mention a fork, handler registration, thread
/// start or lock, then whatever the contexts found there reach (AnalysisDemand), found by a
/// scan of every file's text (CSourceIndex). Everything else cannot change a finding.
///
/// Unchecked: its methods run only inside ParseQueue's `whenFinished` and `whenIdle`, which
/// the queue calls with its lock held, one at a time.
final class ParseDemand: @unchecked Sendable {
  private let files: [String]
  private let index: CSourceIndex
  /// Index into `files` of each C unit in `index`.
  private let unitFiles: [Int]
  private var demand: AnalysisDemand
  let initial: [Int]

  init(
    scans: ScanMemo? = nil, files: [String], arguments: (String) -> [String], unsaved: [String: String],
    knowledges: [Knowledge]
  ) {
    self.files = files
    var units: [CSourceIndex.Unit] = []
    var unitFiles: [Int] = []
    var alwaysParsed: [Int] = []
    for (position, file) in files.enumerated() {
      // Swift files are cheap to parse and call into C by name; editor buffers are what
      // the user is looking at.
      if file.hasSuffix(".swift") || unsaved[file] != nil {
        alwaysParsed.append(position)
      } else {
        units.append(CSourceIndex.Unit(file: file, arguments: arguments(file)))
        unitFiles.append(position)
      }
    }
    index = scans?.index(units: units, unsaved: unsaved) ?? CSourceIndex(units: units, unsaved: unsaved)
    self.unitFiles = unitFiles
    let names = knowledges.reduce(into: Set<String>()) { $0.formUnion($1.contextNames) }
    // The knowledge bases differ only in the user's additions, which are in `names`.
    let canonical = knowledges[0]
    let roots = index.units(mentioningAnyOf: names) { name in
      names.contains(name) || names.contains(canonical.canonicalName(name))
    }
    initial = (alwaysParsed + (roots + index.unitsToParse).map { unitFiles[$0] }).sorted()
    // No thread can start where no file (with its project headers) names a way to start
    // one, there is no Swift code, and every unit could be scanned.
    let threadNames = knowledges.reduce(into: Set<String>()) { $0.formUnion($1.threadStartNames) }
    let threadsPossible =
      !alwaysParsed.isEmpty || !index.unitsToParse.isEmpty
      || !index.units(mentioningAnyOf: threadNames) { name in
        threadNames.contains(name) || threadNames.contains(canonical.canonicalName(name))
      }.isEmpty
    demand = AnalysisDemand(
      takesLock: { name in knowledges.contains { $0.takesLock(name) } },
      startsThread: { name in canonical.startsThread(name) },
      isUnsafe: { name in
        knowledges.contains { knowledge in
          switch knowledge.safety(of: name) {
          case .unsafe: return true
          case .safe, .unknown, .lock: return false
          }
        }
      },
      isLibraryFunction: { name in canonical.isLibraryFunction(name) }, threadsPossible: threadsPossible,
      programWideCalls: knowledges.reduce(into: Set<String>()) {
        $0.formUnion($1.localeSetters)
        $0.formUnion($1.streamBufferingFunctions)
      },
      makesProgramWideChange: { call in
        knowledges.contains { $0.localeSetters.contains(call.callee) || $0.mayBufferStderr(call) }
      }, spelledProgramWideCalls: canonical.streamBufferingFunctions)
  }

  /// Files to parse because of what `facts` shows.
  func needed(after facts: FileFacts) -> [Int] {
    demand.add(facts)
    return wantedFiles()
  }

  /// Files to parse once everything queued is parsed.
  func neededWhenSettled() -> [Int] {
    demand.settle()
    return wantedFiles()
  }

  private func wantedFiles() -> [Int] {
    var result: [Int] = []
    for want in demand.takeWants() {
      switch want {
      case .definition(let name): result += index.units(mayDefine: name).map { unitFiles[$0] }
      case .mention(let name): result += index.units(mentioning: name).map { unitFiles[$0] }
      case .spelling(let name): result += index.units(spelling: name).map { unitFiles[$0] }
      }
    }
    return result.sorted()
  }
}

/// Parse results by file index. A function defined in a header is in the facts of every
/// file that includes it; only the copy of the first file in path order is kept, so memory
/// holds each definition once, not once per file. (A name defined in several places — one
/// `main` per program — is several definitions, each kept.)
final class FactsByFile: Sendable {
  private struct Definition: Hashable {
    var symbol: SymbolID
    var location: SourceLocation
  }
  private struct State {
    var results: [Int: Swift.Result<FileFacts, Error>] = [:]
    /// The file whose facts hold each definition.
    var holders: [Definition: Int] = [:]
  }
  private let state = Mutex(State())

  func set(_ index: Int, _ result: Swift.Result<FileFacts, Error>) {
    state.withLock { state in
      guard case .success(var facts) = result else {
        state.results[index] = result
        return
      }
      var moved: [Int: Set<Definition>] = [:]
      facts.functions = facts.functions.filter { function in
        let definition = Definition(symbol: function.symbol, location: function.location)
        if let holder = state.holders[definition], holder <= index { return false }
        if let holder = state.holders[definition] { moved[holder, default: []].insert(definition) }
        state.holders[definition] = index
        return true
      }
      for (holder, definitions) in moved {
        if case .success(var earlier) = state.results[holder] {
          earlier.functions.removeAll { definitions.contains(Definition(symbol: $0.symbol, location: $0.location)) }
          state.results[holder] = .success(earlier)
        }
      }
      state.results[index] = .success(facts)
    }
  }

  /// The results in file order.
  var values: [(index: Int, result: Swift.Result<FileFacts, Error>)] {
    state.withLock { state in state.results.keys.sorted().map { ($0, state.results[$0]!) } }
  }
}
