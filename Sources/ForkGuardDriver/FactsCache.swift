import ForkGuardCore
import Foundation
import Synchronization

/// Per-file facts on disk, keyed by the file's content, its compiler flags and what shapes
/// extraction (`Knowledge.parsingFingerprint`), and valid only while every header the parse
/// read is unchanged. A header is checked by size and modification time first, by content
/// when those moved. Entries that do not decode, or belong to another key or file, are
/// ignored and rewritten: the cache is never trusted over a parse.
public final class FactsCache: Sendable {
  /// Bumped whenever the facts' shape or meaning changes. The key also holds the running
  /// build's identity (`BuildIdentity`, through the salt), so any rebuilt forkguard
  /// re-extracts; the schema still matters for the entries' own encoding.
  public static let schema = 13

  struct Stamp: Equatable, Sendable {
    var size: Int
    /// Modification time in nanoseconds.
    var modified: Int
    var hash: String
  }

  /// `FGC2`, key, file, dependencies (path, size, mtime, hash), then the facts.
  private static let magic = Array("FGC\(schema)".utf8)

  private static func encode(key: String, file: String, dependencies: [String: Stamp], facts: FileFacts) -> Data {
    var writer = FactsWriter()
    writer.bytes.append(contentsOf: magic)
    writer.string(key)
    writer.string(file)
    writer.list(dependencies.sorted { $0.key < $1.key }) { w, pair in
      w.string(pair.key)
      w.uint(pair.value.size)
      w.uint(pair.value.modified)
      w.string(pair.value.hash)
    }
    writer.file(facts)
    // A checksum of everything before it: a flipped byte must not decode into other facts.
    var checksum = ContentHash()
    checksum.add(Data(writer.bytes))
    return Data(writer.bytes) + Data(checksum.hex.utf8)
  }

  /// The facts, if the entry is whole, is this key's and this file's, and its headers are
  /// unchanged.
  private func decode(_ entry: Data, key: String, file: String) -> (FileFacts, [String: Stamp])? {
    let checksumLength = 32
    guard entry.count > checksumLength else { return nil }
    let data = entry.prefix(entry.count - checksumLength)
    var checksum = ContentHash()
    checksum.add(data)
    guard Data(checksum.hex.utf8) == entry.suffix(checksumLength) else { return nil }
    return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> (FileFacts, [String: Stamp])? in
      guard raw.count > Self.magic.count, Array(raw.prefix(Self.magic.count)) == Self.magic else { return nil }
      var reader = FactsReader(bytes: raw)
      reader.offset = Self.magic.count
      guard let storedKey = try? reader.string(), storedKey == key, let storedFile = try? reader.string(),
        storedFile == file,
        let dependencies = try? reader.list({ r in
          (try r.string(), Stamp(size: try r.uint(), modified: try r.uint(), hash: try r.string()))
        }),
        dependencies.allSatisfy({ stampMatches($0.0, $0.1) }),
        let facts = try? reader.file(), reader.isAtEnd
      else { return nil }
      return (facts, Dictionary(dependencies, uniquingKeysWith: { first, _ in first }))
    }
  }

  public let directory: URL
  private let salt: String
  private let memory: FactsMemory?
  private struct Counts {
    /// Headers already checked in this run: their current stamp.
    var stamps: [String: Stamp?] = [:]
    var fileStamps: [String: FileStamp?] = [:]
    /// The same, by the memory's number for each header (nil: not looked at yet).
    var memoryStamps: [FileStamp??] = []
    var hits = 0
    var misses = 0
  }
  private let counts = Mutex(Counts())
  public var hits: Int { counts.withLock { $0.hits } }
  public var misses: Int { counts.withLock { $0.misses } }

  /// - Parameter memory: facts kept from earlier checks of a long-lived caller (the
  ///   language server), looked at before the disk.
  public init(directory: String, salt: String, memory: FactsMemory? = nil) {
    self.directory = URL(fileURLWithPath: directory, isDirectory: true)
    self.salt = salt
    self.memory = memory
  }

  /// `<project>/.build/forkguard-cache` when the project has a `.build` folder, else
  /// `$XDG_CACHE_HOME/forkguard` (or `~/.cache/forkguard`).
  public static func defaultDirectory(base: String) -> String {
    let build = URL(fileURLWithPath: base).appendingPathComponent(".build")
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: build.path, isDirectory: &isDirectory), isDirectory.boolValue {
      return build.appendingPathComponent("forkguard-cache").path
    }
    let environment = ProcessInfo.processInfo.environment
    let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.cache")
    return cache + "/forkguard"
  }

  func key(file: String, arguments: [String], content: Data) -> String {
    var hash = ContentHash()
    hash.add("\(Self.schema)|\(salt)|\(file)")
    for argument in arguments { hash.add(argument) }
    hash.add(content)
    return hash.hex
  }

  private func path(for key: String) -> URL {
    directory.appendingPathComponent(String(key.prefix(2))).appendingPathComponent(key + ".facts")
  }

  /// A long-lived caller's facts for `file`, without reading it: kept from an earlier
  /// check, with the same flags, while the file's size and modification time and its
  /// headers are as they were. The language server asks this of every file at every edit;
  /// reading and hashing them all again was most of its "parse" phase.
  public func kept(file: String, arguments: [String]) -> FileFacts? {
    guard let memory, let kept = memory.entry(for: file), kept.arguments == arguments, let stamp = kept.stamp,
      FileStamp(file) == stamp, dependenciesMatch(kept.dependencies, in: memory)
    else { return nil }
    count(hit: true)
    return kept.facts
  }

  /// - Parameter stamp: the file's stamp, taken before `content` was read, so a change made
  ///   meanwhile leaves a stamp that no longer matches (`kept(file:arguments:)`).
  public func lookup(file: String, arguments: [String], content: Data, stamp: FileStamp? = nil) -> FileFacts? {
    let key = key(file: file, arguments: arguments, content: content)
    if let memory, var kept = memory.entry(for: file), kept.key == key, dependenciesMatch(kept.dependencies, in: memory)
    {
      count(hit: true)
      kept.arguments = arguments
      kept.stamp = stamp
      memory.keep(kept, for: file)
      return kept.facts
    }
    let entry = path(for: key)
    guard let data = try? Data(contentsOf: entry), let (facts, dependencies) = decode(data, key: key, file: file)
    else {
      count(hit: false)
      return nil
    }
    count(hit: true)
    memory?.keep(key: key, facts: facts, dependencies: dependencies, arguments: arguments, stamp: stamp, for: file)
    // A hit is a use: pruning removes the entries unused longest.
    utimes(entry.path, nil)
    return facts
  }

  public func store(file: String, arguments: [String], content: Data, facts: FileFacts, stamp: FileStamp? = nil) {
    var dependencies: [String: Stamp] = [:]
    for dependency in facts.dependencies {
      guard let stamp = currentStamp(dependency) else { return }  // unreadable: do not cache
      dependencies[dependency] = stamp
    }
    let key = key(file: file, arguments: arguments, content: content)
    memory?.keep(key: key, facts: facts, dependencies: dependencies, arguments: arguments, stamp: stamp, for: file)
    let data = Self.encode(key: key, file: file, dependencies: dependencies, facts: facts)
    AtomicFile.write(data, to: path(for: key))
  }

  /// Keeps the cache from growing with every edit: when it holds more than twice `limit`
  /// entries, the least recently used go until `limit` remain.
  public func prune(limit: Int) {
    // Counted by name first: the dates are read only when there is something to prune
    // (the language server prunes at every check).
    var entries: [String] = []
    for folder in DirectoryEntries.list(directory.path) ?? [] where folder.isDirectory {
      let folderPath = directory.path + "/" + folder.name
      for entry in DirectoryEntries.list(folderPath) ?? [] where entry.name.hasSuffix(".facts") {
        entries.append(folderPath + "/" + entry.name)
      }
    }
    guard entries.count > 2 * limit else { return }
    let dated = entries.map { ($0, FileStamp($0)?.modified ?? 0) }
    for (path, _) in dated.sorted(by: { $0.1 < $1.1 }).prefix(entries.count - limit) { unlink(path) }
  }

  private func count(hit: Bool) {
    counts.withLock { if hit { $0.hits += 1 } else { $0.misses += 1 } }
  }

  /// Whether a kept entry's headers are as they were. The language server asks this of
  /// every file at every edit, a few hundred headers each: the headers' stamps are read by
  /// number under one lock, and only a header not yet looked at in this run, or whose size
  /// or time moved, takes the way by name.
  private func dependenciesMatch(_ dependencies: [FactsMemory.Dependency], in memory: FactsMemory) -> Bool {
    let sameTimes = counts.withLock { counts in
      dependencies.allSatisfy { dependency in
        guard dependency.header < counts.memoryStamps.count, let known = counts.memoryStamps[dependency.header],
          let now = known
        else { return false }
        return now.size == dependency.stamp.size && now.modified == dependency.stamp.modified
      }
    }
    if sameTimes { return true }
    return dependencies.allSatisfy { dependency in
      let path = memory.path(of: dependency.header)
      let now = fileStamp(path)
      counts.withLock { counts in
        if dependency.header >= counts.memoryStamps.count {
          counts.memoryStamps += Array(repeating: nil, count: dependency.header + 1 - counts.memoryStamps.count)
        }
        counts.memoryStamps[dependency.header] = .some(now)
      }
      return stampMatches(path, dependency.stamp)
    }
  }

  private func stampMatches(_ path: String, _ recorded: Stamp) -> Bool {
    guard let now = fileStamp(path) else { return false }
    if now.size == recorded.size && now.modified == recorded.modified { return true }
    return currentStamp(path)?.hash == recorded.hash
  }

  /// A header's size and time, stat'ed once per run: most files include the same ones.
  private func fileStamp(_ path: String) -> FileStamp? {
    if let known = counts.withLock({ $0.fileStamps[path] }) { return known }
    let stamp = FileStamp(path)
    counts.withLock { $0.fileStamps[path] = stamp }
    return stamp
  }

  private func currentStamp(_ path: String) -> Stamp? {
    if let known = counts.withLock({ $0.stamps[path] }) { return known }
    var stamp: Stamp?
    if let now = FileStamp(path), let hash = ContentHash.of(path: path) {
      stamp = Stamp(size: now.size, modified: now.modified, hash: hash)
    }
    counts.withLock { $0.stamps[path] = stamp }
    return stamp
  }
}

/// The facts cache's entries kept in memory between the checks of one process, the newest
/// per file: the language server reads a file's facts from here after the first check,
/// without reading and decoding its entry again. An entry is valid under the same key and
/// header stamps as on disk.
public final class FactsMemory: Sendable {
  struct Entry: Sendable {
    var key: String
    var facts: FileFacts
    var dependencies: [Dependency]
    /// The flags and the file's stamp the key was made from: the same again, and the key is
    /// too, without reading the file.
    var arguments: [String]
    var stamp: FileStamp?
  }

  /// A header by its number in this memory (the headers of a project's files are mostly the
  /// same few hundred), and its stamp when the entry was made.
  struct Dependency: Sendable {
    var header: Int
    var stamp: FactsCache.Stamp
  }

  private struct Headers {
    var numbers: [String: Int] = [:]
    var paths: [String] = []
  }

  private let entries = Mutex([String: Entry]())
  private let headers = Mutex(Headers())

  public init() {}

  func entry(for file: String) -> Entry? { entries.withLock { $0[file] } }

  func keep(_ entry: Entry, for file: String) { entries.withLock { $0[file] = entry } }

  func keep(
    key: String, facts: FileFacts, dependencies: [String: FactsCache.Stamp], arguments: [String], stamp: FileStamp?,
    for file: String
  ) {
    let numbered = headers.withLock { headers in
      dependencies.sorted { $0.key < $1.key }.map { path, stamp in
        if let number = headers.numbers[path] { return Dependency(header: number, stamp: stamp) }
        headers.numbers[path] = headers.paths.count
        headers.paths.append(path)
        return Dependency(header: headers.paths.count - 1, stamp: stamp)
      }
    }
    keep(Entry(key: key, facts: facts, dependencies: numbered, arguments: arguments, stamp: stamp), for: file)
  }

  func path(of header: Int) -> String { headers.withLock { $0.paths[header] } }
}
