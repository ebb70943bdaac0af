import Foundation

/// The rule pages of `docs/rules`, installed next to the binary for `forkguard explain`.
public enum ForkGuardDocs {
  public static func rulePage(_ id: String) -> String? {
    guard let url = Bundle.module.url(forResource: id, withExtension: "md", subdirectory: "rules") else {
      return nil
    }
    return try? String(contentsOf: url, encoding: .utf8)
  }
}
