import Foundation
import PackagePlugin

/// `swift package forkguard [CHECK OPTIONS] [PATHS]`: forkguard check on the package (its
/// folder, which check reads as a SwiftPM package: targets, public headers; or the paths
/// given), with the facts cache in the plugin's work folder so the package folder is not
/// written to. Exits as check does: 1 for findings.
@main
struct ForkGuardCommand: CommandPlugin {
  func performCommand(context: PluginContext, arguments: [String]) async throws {
    let tool = try context.tool(named: "forkguard")
    // A word naming an existing file or folder is a path; none given: the whole package.
    let givesPaths = arguments.contains { !$0.hasPrefix("-") && FileManager.default.fileExists(atPath: $0) }
    var check = ["check"] + (givesPaths ? [] : ["."])
    check += ["--no-progress", "--cache-dir", context.pluginWorkDirectoryURL.appendingPathComponent("cache").path]
    check += arguments
    let process = Process()
    process.executableURL = tool.url
    process.arguments = check
    process.currentDirectoryURL = context.package.directoryURL
    try process.run()
    process.waitUntilExit()
    if process.terminationStatus != 0 { exit(process.terminationStatus) }
  }
}
