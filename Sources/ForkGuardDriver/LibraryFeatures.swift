import ForkGuardCore
import Foundation

/// Without a configure step, `config.h` is missing and every `HAVE_<FUNCTION>` is
/// undefined: projects then compile their own fallbacks (bash's sigprocmask emulation,
/// screen's `#define _exit(x) exit(x)`, openssh's compat poll), which glibc makes dead code.
/// Files parsed without a compilation database get a header that says what glibc 2.36 has,
/// as configure would on this system.
enum LibraryFeatures {
  /// The header's path; written once per process and content, in the temporary folder.
  static func header(_ knowledge: Knowledge) -> String? {
    let names = knowledge.libraryFunctionNames + ["_exit"]
    var text = "/* forkguard: what glibc 2.36 has, for files parsed without their build's config.h */\n"
    for name in names where name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
      text += "#define HAVE_\(name.uppercased()) 1\n"
    }
    var hash = ContentHash()
    hash.add(text)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forkguard-\(getuid())")
    let path = folder.appendingPathComponent("glibc-features-\(hash.hex.prefix(12)).h").path
    if FileManager.default.fileExists(atPath: path) { return path }
    return AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: path)) ? path : nil
  }
}
