import Foundation

/// Where the preload library's reports arrive: a datagram socket with an abstract name
/// (Linux; no file to leave behind, and no permissions, so a process that changed user can
/// still reach it), plus one socket connected to it that every process of the program
/// inherits, so a process in another network namespace reaches it too. A process that closed
/// the inherited one connects by name (fg_report.c).
final class ReportSocket {
  let name: String
  /// The inherited descriptor's number, for `log_fd=` (not close-on-exec).
  let inheritedDescriptor: Int32
  private let receiving: Int32

  init() throws {
    var random = SystemRandomNumberGenerator()
    name = "forkguard-\(getpid())-\(String(random.next(), radix: 16))"
    var address = Self.address(name)
    let receiving = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard receiving >= 0 else { throw Self.failure("socket") }
    self.receiving = receiving
    // Room for many reports while the program runs ahead of the reader.
    var size: Int32 = 4 << 20
    _ = setsockopt(receiving, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    guard Self.withAddress(&address, { bind(receiving, $0, $1) }) == 0 else {
      let error = Self.failure("bind")
      Glibc.close(receiving)
      throw error
    }
    let sending = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    guard sending >= 0, Self.withAddress(&address, { connect(sending, $0, $1) }) == 0 else {
      let error = Self.failure("connect")
      Glibc.close(receiving)
      if sending >= 0 { Glibc.close(sending) }
      throw error
    }
    // Out of the way of the low numbers programs use and expect (bash keeps 255 for itself).
    let high = fcntl(sending, F_DUPFD, 900)
    if high >= 0 {
      Glibc.close(sending)
      inheritedDescriptor = high
    } else {
      inheritedDescriptor = sending
    }
  }

  func close() {
    Glibc.close(inheritedDescriptor)
    Glibc.close(receiving)
  }

  /// The datagrams queued now, after waiting up to `waitingMilliseconds` for the first.
  func receive(waitingMilliseconds: Int32) -> [[UInt8]] {
    var datagrams: [[UInt8]] = []
    var poller = pollfd(fd: receiving, events: Int16(POLLIN), revents: 0)
    guard poll(&poller, 1, waitingMilliseconds) > 0 else { return [] }
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let got = buffer.withUnsafeMutableBytes { recv(receiving, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
      if got < 0 && errno == EINTR { continue }
      guard got > 0 else { break }
      datagrams.append(Array(buffer[..<got]))
    }
    return datagrams
  }

  private static func address(_ name: String) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { path in
      path[0] = 0  // abstract: the name follows a NUL
      for (index, byte) in name.utf8.prefix(path.count - 1).enumerated() { path[index + 1] = byte }
    }
    return address
  }

  private static func withAddress(
    _ address: inout sockaddr_un, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32
  ) -> Int32 {
    let nameLength = withUnsafeBytes(of: address.sun_path) { path in path.dropFirst().prefix { $0 != 0 }.count }
    let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + nameLength)
    return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
  }

  private static func failure(_ call: String) -> RuntimeRun.LaunchError {
    RuntimeRun.LaunchError(
      program: "forkguard", problem: "cannot open the report socket (\(call): \(String(cString: strerror(errno))))")
  }
}
