/// glibc's writes to stderr while it keeps the unbuffered mode it starts in: formatted on
/// the stack and handed to write(2) under a recursive lock, harmless in a signal handler or
/// a fork child but for interleaved text (rules/data/glibc-unbuffered-stderr.json says why).
/// A program that gives stderr a buffer (bash's `sh_setlinebuf (stderr)`) loses that.
struct UnbufferedStderr: Codable, Sendable {
  struct Writer: Codable, Sendable {
    /// The index of the stream argument, and of the format for the printf family.
    var stream: Int
    var format: Int?
  }
  /// Writing functions by the name as spelled (`__fprintf_chk` has a flag before its format).
  var writers: [String: Writer]
  /// Functions that give a stream a buffer or reopen it, by the index of the stream argument.
  var buffering: [String: Int]
  var why: String

  /// The symbol C gives the variable `stderr`.
  static let stderrSymbol = "c:@stderr"

  /// Whether the call writes to stderr itself, with no format or a literal `formatting`
  /// formats on the stack without a lock (passed as one, or by every caller: `arguments`).
  func writesToStderr(_ call: CallSite, arguments: [Int: AbstractValue], formatting: BufferFormatting) -> Bool {
    guard let writer = writers[call.callee], case .variable(Self.stderrSymbol)? = call.argumentValues[writer.stream]
    else { return false }
    guard let format = writer.format else { return true }
    if arguments[format] == .lockFreeFormat { return true }
    guard case .string(let text)? = call.argumentValues[format] else { return false }
    return formatting.isLockFree(text)
  }

  /// A write to stderr whose format is its caller's parameter: what the callers pass decides.
  func formatIsPassedOn(_ call: CallSite) -> Bool {
    guard let writer = writers[call.callee], let format = writer.format,
      case .variable(Self.stderrSymbol)? = call.argumentValues[writer.stream],
      case .parameter? = call.argumentValues[format]
    else { return false }
    return true
  }

  /// Whether a call may give stderr a buffer: a buffering function called on stderr by name,
  /// or on its caller's parameter (bash's `sh_setlinebuf (stream)`, which its callers may
  /// pass stderr). A stream of the program's own (`setvbuf (log_file, …)` after `fopen`),
  /// stdout or stdin is another stream.
  func mayBuffer(_ call: CallSite) -> Bool {
    guard let index = buffering[call.callee] else { return false }
    switch call.argumentValues[index] {
    case .variable(let symbol)?: return symbol == Self.stderrSymbol
    case .parameter?: return true
    default: return false
    }
  }
}
