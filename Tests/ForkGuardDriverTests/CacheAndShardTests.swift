import ForkGuardCore
import ForkGuardDriver
import ForkGuardTestSupport
import Foundation
import Testing

/// The facts cache and sharded runs must give exactly the results of a plain run.
@Suite("Cache and shards")
struct CacheAndShardTests {
  /// A project whose finding needs facts from three files: spawn.c forks and calls
  /// log_line (log.c), which calls format (format.c), which calls malloc.
  static func project() throws -> URL {
    let directory = Scratch.root.appendingPathComponent("fg-cache-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let files = [
      "common.h": "void log_line(const char *text);\nvoid format(const char *text);\n",
      "spawn.c": """
      #include <unistd.h>
      #include "common.h"
      void spawn(void) { if (fork() == 0) { log_line("child"); _exit(0); } }
      """,
      "log.c": "#include \"common.h\"\nvoid log_line(const char *text) { format(text); }\n",
      "format.c":
        "#include <stdlib.h>\n#include \"common.h\"\nvoid format(const char *text) { (void)text; free(malloc(8)); }\n",
    ]
    for (name, text) in files {
      try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    return directory
  }

  static func options(_ directory: URL, cache: URL? = nil) -> CheckRun.Options {
    var options = CheckRun.Options(paths: [directory.path], base: directory.path)
    options.searchesConfiguration = false
    options.jobs = 2
    options.usesCache = cache != nil
    options.cacheDirectory = cache?.path
    return options
  }

  @Test func warmRunReadsEveryFileFromTheCacheAndAgrees() throws {
    let project = try Self.project()
    let cache = project.appendingPathComponent("cache")
    let cold = try CheckRun.run(Self.options(project, cache: cache))
    #expect(cold.cacheHits == 0 && cold.parsed == 3)
    #expect(cold.diagnostics.filter { $0.ruleID != nil }.count == 2)
    let warm = try CheckRun.run(Self.options(project, cache: cache))
    #expect(warm.cacheHits == 3 && warm.parsed == 0)
    #expect(warm.diagnostics == cold.diagnostics)
  }

  @Test func editingAFileOrAHeaderReparsesOnlyWhatItAffects() throws {
    let project = try Self.project()
    let cache = project.appendingPathComponent("cache")
    _ = try CheckRun.run(Self.options(project, cache: cache))
    try "#include <stdlib.h>\n#include \"common.h\"\nvoid format(const char *text) { (void)text; }\n".write(
      to: project.appendingPathComponent("format.c"), atomically: true, encoding: .utf8)
    let edited = try CheckRun.run(Self.options(project, cache: cache))
    #expect(edited.cacheHits == 2 && edited.parsed == 1)
    #expect(edited.diagnostics.filter { $0.ruleID != nil }.isEmpty)
    // Every file includes common.h: changing it re-parses all three.
    try "void log_line(const char *text);\nvoid format(const char *text);\n/* changed */\n".write(
      to: project.appendingPathComponent("common.h"), atomically: true, encoding: .utf8)
    #expect(try CheckRun.run(Self.options(project, cache: cache)).parsed == 3)
    // Touching without changing keeps the entries valid (content is compared when the time moved).
    let header = project.appendingPathComponent("common.h").path
    try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: header)
    #expect(try CheckRun.run(Self.options(project, cache: cache)).cacheHits == 3)
  }

  @Test func corruptEntriesAreRebuiltNotTrusted() throws {
    let project = try Self.project()
    let cache = project.appendingPathComponent("cache")
    let cold = try CheckRun.run(Self.options(project, cache: cache))
    let entries = FileManager.default.enumerator(atPath: cache.path)!.compactMap { $0 as? String }
      .filter { $0.hasSuffix(".facts") }
    #expect(entries.count == 3)
    // One truncated, one overwritten with garbage, one with a flipped byte in the middle.
    let paths = entries.map { cache.appendingPathComponent($0) }
    let whole = try Data(contentsOf: paths[0])
    try whole.prefix(whole.count / 2).write(to: paths[0])
    try Data("not facts at all".utf8).write(to: paths[1])
    var flipped = try Data(contentsOf: paths[2])
    flipped[flipped.count / 2] ^= 0xff
    try flipped.write(to: paths[2])
    let rebuilt = try CheckRun.run(Self.options(project, cache: cache))
    #expect(rebuilt.diagnostics == cold.diagnostics)
    #expect(rebuilt.parsed == 3)
    #expect(try CheckRun.run(Self.options(project, cache: cache)).cacheHits == 3)
  }

  @Test func pruningKeepsTheMostRecentlyUsedEntries() throws {
    let project = try Self.project()
    let cacheDirectory = project.appendingPathComponent("cache")
    // Eleven versions of format.c leave eleven entries for it, beside spawn.c's and log.c's.
    for version in 0...10 {
      try "#include \"common.h\"\nvoid format(const char *text) { (void)text; /* \(version) */ }\n".write(
        to: project.appendingPathComponent("format.c"), atomically: true, encoding: .utf8)
      _ = try CheckRun.run(Self.options(project, cache: cacheDirectory))
    }
    func entries() -> Int {
      FileManager.default.enumerator(atPath: cacheDirectory.path)!.compactMap { $0 as? String }
        .filter { $0.hasSuffix(".facts") }.count
    }
    #expect(entries() == 13)
    let cache = FactsCache(directory: cacheDirectory.path, salt: "")
    cache.prune(limit: 7)  // 13 is not over twice 7: nothing goes
    #expect(entries() == 13)
    cache.prune(limit: 5)
    #expect(entries() == 5)
    // The entries of the last run survive: it is still warm.
    #expect(try CheckRun.run(Self.options(project, cache: cacheDirectory)).cacheHits == 3)
  }

  @Test func shardsMergedGiveThePlainRunsResults() throws {
    let project = try Self.project()
    let plain = try CheckRun.run(Self.options(project))
    var factFiles: [String] = []
    for index in 1...2 {
      var shard = Self.options(project)
      shard.shard = (index, 2)
      shard.writeFactsPath = project.appendingPathComponent("shard-\(index).facts").path
      let written = try CheckRun.run(shard)
      #expect(written.diagnostics.filter { $0.ruleID != nil }.isEmpty)
      factFiles.append(shard.writeFactsPath!)
    }
    var merge = CheckRun.Options(paths: [], base: project.path)
    merge.searchesConfiguration = false
    merge.usesCache = false
    merge.factsPaths = factFiles
    let merged = try CheckRun.run(merge)
    #expect(merged.filesAnalysed == 3)
    #expect(merged.diagnostics == plain.diagnostics)
    #expect(merged.diagnostics.contains { $0.notes.count == 3 })  // the chain crosses shards
  }

  @Test func factsCodingRoundTrips() throws {
    let project = try Self.project()
    var options = Self.options(project)
    options.writeFactsPath = project.appendingPathComponent("all.facts").path
    _ = try CheckRun.run(options)
    let data = try Data(contentsOf: URL(fileURLWithPath: options.writeFactsPath!))
    let facts = try FactsCoding.decode(data)
    #expect(FactsCoding.encode(facts) == data)
    #expect(throws: FactsCoding.Malformed.self) { try FactsCoding.decode(data.prefix(data.count - 1)) }
  }
}
