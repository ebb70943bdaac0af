import Foundation

/// A project's root folder: the nearest folder at or above a place that holds `.git` or
/// `.forkguard.yml`. Baselines and CI formats write paths relative to it, so they do not
/// depend on the working directory or the machine.
public enum ProjectRoot {
  public static let markers = [".git", ".forkguard.yml"]

  public static func nearest(from folder: String) -> String? {
    var current = folder
    while !current.isEmpty {
      if markers.contains(where: { FileManager.default.fileExists(atPath: current + "/" + $0) }) { return current }
      let parent = (current as NSString).deletingLastPathComponent
      if parent == current { return nil }
      current = parent
    }
    return nil
  }
}
