import Foundation

/// The programs a build links, read from what the build system writes: meson's
/// `meson-info/intro-targets.json` and CMake's File API replies (codemodel v2). A source
/// file that belongs to exactly one executable or module is that program's; files of a
/// library shared by several programs belong to none (they link into each).
///
/// Ask CMake for the replies before configuring: `mkdir -p build/.cmake/api/v1/query &&
/// touch build/.cmake/api/v1/query/codemodel-v2`, then `cmake -B build`. meson writes its
/// introspection files on every setup.
enum BuildTargets {
  struct Problem: Error, CustomStringConvertible {
    var description: String
  }

  /// File (absolute, standardized) to program, from the first build folder that has link
  /// information; nil when none has.
  static func programs(in buildDirectories: [String]) throws -> [String: String]? {
    for directory in buildDirectories {
      let meson = directory + "/meson-info/intro-targets.json"
      if FileManager.default.fileExists(atPath: meson) { return try mesonPrograms(meson) }
      let reply = directory + "/.cmake/api/v1/reply"
      if FileManager.default.fileExists(atPath: reply) { return try cmakePrograms(reply) }
    }
    return nil
  }

  /// Files of exactly one program target.
  private static func assign(_ targets: [(name: String, isProgram: Bool, sources: [String])]) -> [String: String] {
    var owners: [String: Set<String>] = [:]
    for target in targets where target.isProgram {
      for source in target.sources { owners[standardized(source), default: []].insert(target.name) }
    }
    return owners.compactMapValues { $0.count == 1 ? $0.first : nil }
  }

  private static func standardized(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

  private static func json(_ path: String) throws -> Any {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw Problem(description: "\(path): cannot read build information")
    }
    do { return try JSONSerialization.jsonObject(with: data) } catch {
      throw Problem(description: "\(path): malformed build information: \(error.localizedDescription)")
    }
  }

  /// `[{"name", "type": "executable" | "shared module" | …, "target_sources": [{"sources": [...]}]}]`.
  static func mesonPrograms(_ path: String) throws -> [String: String] {
    guard let targets = try json(path) as? [[String: Any]] else {
      throw Problem(description: "\(path): expected a list of targets")
    }
    return assign(
      targets.compactMap { target in
        guard let name = target["name"] as? String, let type = target["type"] as? String else { return nil }
        let groups = target["target_sources"] as? [[String: Any]] ?? []
        let sources = groups.flatMap { $0["sources"] as? [String] ?? [] }
        return (name, type == "executable" || type == "shared module", sources)
      })
  }

  /// `index-*.json` names the codemodel-v2 reply, whose configuration lists target files;
  /// each target has a `name`, a `type` (`EXECUTABLE`, `MODULE_LIBRARY`, `STATIC_LIBRARY`…)
  /// and `sources` relative to the source folder.
  static func cmakePrograms(_ reply: String) throws -> [String: String] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: reply)) ?? []
    guard let index = entries.filter({ $0.hasPrefix("index-") && $0.hasSuffix(".json") }).sorted().last else {
      throw Problem(description: "\(reply): no index file in the CMake File API reply")
    }
    let indexObject = try json(reply + "/" + index) as? [String: Any]
    let objects = indexObject?["objects"] as? [[String: Any]] ?? []
    guard let codemodelFile = objects.first(where: { ($0["kind"] as? String) == "codemodel" })?["jsonFile"] as? String,
      let codemodel = try json(reply + "/" + codemodelFile) as? [String: Any]
    else { throw Problem(description: "\(reply): the CMake File API reply has no codemodel (query codemodel-v2)") }
    let sourceRoot = ((codemodel["paths"] as? [String: Any])?["source"] as? String) ?? ""
    let configuration = (codemodel["configurations"] as? [[String: Any]])?.first ?? [:]
    let targets = configuration["targets"] as? [[String: Any]] ?? []
    return try assign(
      targets.compactMap { entry -> (String, Bool, [String])? in
        guard let file = entry["jsonFile"] as? String, let target = try json(reply + "/" + file) as? [String: Any],
          let name = target["name"] as? String, let type = target["type"] as? String
        else { return nil }
        let sources = (target["sources"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }.map {
          $0.hasPrefix("/") ? $0 : sourceRoot + "/" + $0
        }
        return (name, type == "EXECUTABLE" || type == "MODULE_LIBRARY", sources)
      })
  }
}
