import Foundation

/// Where the knowledge files of `rules/data` are installed next to the binary.
public enum KnowledgeDataBundle {
  public static var dataDirectory: URL {
    Bundle.module.url(forResource: "data", withExtension: nil)!
  }
}
