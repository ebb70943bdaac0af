/// glibc's set*id calls, which take a lock and signal every thread only once the process
/// has created one (rules/data/glibc-setxid.json says why, from glibc's code).
struct SetxidCalls: Codable, Sendable {
  var functions: [String]
  /// Why one is one system call in a program that starts no thread.
  var singleThreaded: String
  /// Why one is safe in the child of glibc's `fork()`.
  var forkChild: String
}
