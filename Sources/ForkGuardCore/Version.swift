/// forkguard's version: the one place it is written. `--version`, SARIF's
/// `tool.driver.version` and the facts cache key read it (a new version may lower source
/// differently, so it must not trust an older one's cache).
public enum ForkGuardVersion {
  public static let current = "0.5.0"
  public static let informationURI = "https://github.com/forkguard/forkguard"
}
