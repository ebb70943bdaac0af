import Foundation

/// LSP's base protocol over a pair of file descriptors: `Content-Length` framed JSON.
public final class JSONRPCConnection {
  private let input: Int32
  private let output: Int32
  private var buffer: [UInt8] = []
  /// No editor sends a message this large (a whole file's text is far smaller).
  static let maximumMessage = 256 << 20

  public init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO) {
    self.input = input
    self.output = output
  }

  /// The next message, or nil at end of input.
  public func receive() -> [String: Any]? {
    while true {
      guard let headerEnd = find([13, 10, 13, 10]) else {
        guard fill() else { return nil }
        continue
      }
      let header = String(decoding: buffer[..<headerEnd], as: UTF8.self)
      var length = 0
      for line in header.components(separatedBy: "\r\n") {
        let parts = line.split(separator: ":", maxSplits: 1)
        if parts.count == 2, parts[0].lowercased() == "content-length" {
          length = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
        }
      }
      let bodyStart = headerEnd + 4
      // A negative or absurd length is a broken frame: drop its header and read on, rather
      // than trap on the arithmetic or wait for a gigabyte that never comes.
      guard length >= 0, length <= Self.maximumMessage else {
        buffer.removeFirst(bodyStart)
        continue
      }
      while buffer.count < bodyStart + length {
        guard fill() else { return nil }
      }
      let body = Data(buffer[bodyStart..<(bodyStart + length)])
      buffer.removeFirst(bodyStart + length)
      if let message = try? JSONSerialization.jsonObject(with: body) as? [String: Any] { return message }
    }
  }

  func send(_ message: [String: Any]) {
    var object = message
    object["jsonrpc"] = "2.0"
    guard let body = try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes]) else {
      return
    }
    var data = Data("Content-Length: \(body.count)\r\n\r\n".utf8)
    data.append(body)
    data.withUnsafeBytes { bytes in
      var offset = 0
      while offset < bytes.count {
        let written = write(output, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          return
        }
        offset += written
      }
    }
  }

  private func fill() -> Bool {
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = read(input, &chunk, chunk.count)
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { return false }
      buffer.append(contentsOf: chunk[..<count])
      return true
    }
  }

  private func find(_ pattern: [UInt8]) -> Int? {
    guard buffer.count >= pattern.count else { return nil }
    for index in 0...(buffer.count - pattern.count) where buffer[index] == pattern[0] {
      if Array(buffer[index..<(index + pattern.count)]) == pattern { return index }
    }
    return nil
  }
}
