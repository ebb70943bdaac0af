/// The one place that knows how a `SymbolID` is spelled. Front ends make symbols with
/// these functions and every later layer asks them, so no layer decodes prefixes itself.
///
/// - C: clang's USR. External linkage is `c:@F@name`; a file-local symbol is qualified by
///   its file's whole path (`c:/src/a/prog.c@F@on_sig`).
/// - Swift: `swift:name` for a function or a call by name, `swift:Type.name` for a
///   method, `swift:.name` for a call on a value, `swift:FILE#main` and
///   `swift:FILE#closure@L:C` for top-level code and registered closures.
/// - A symbol defined in more than one place gets one identity per definition:
///   `symbol` + U+0001 + the definition's place.
public enum SymbolSpelling {
  public static func cExternal(_ name: String) -> SymbolID { "c:@F@" + name }
  /// For a C variable with external linkage, its name: any file may store into it. Nil for
  /// a `static` (its USR names its file, `c:prog.c@flags`, or function) and for functions.
  public static func externalVariableName(_ symbol: SymbolID) -> String? {
    guard symbol.hasPrefix("c:@"), !symbol.hasPrefix("c:@F@") else { return nil }
    let name = symbol.dropFirst(3)
    return name.utf8.contains(UInt8(ascii: "@")) ? nil : String(name)
  }
  public static func swift(_ name: String) -> SymbolID { "swift:" + name }
  /// A Swift call on a value (`lock.lock()`), whose type forkguard does not know.
  public static func swiftValueCall(_ name: String) -> SymbolID { "swift:." + name }
  public static func swiftTopLevel(file: String) -> SymbolID { "swift:\(file)#main" }
  /// Top-level variable initialisers of a file that is not a program's entry.
  public static func swiftGlobals(file: String) -> SymbolID { "swift:\(file)#globals" }
  public static func swiftClosure(file: String, line: Int, column: Int) -> SymbolID {
    "swift:\(file)#closure@\(line):\(column)"
  }

  /// The identity of one of several definitions of `symbol`.
  public static func definition(_ symbol: SymbolID, at place: SourceLocation) -> SymbolID {
    "\(symbol)\u{1}\(place.file):\(place.line):\(place.column)"
  }

  /// The linked symbol an identity stands for.
  public static func linked(_ identity: SymbolID) -> SymbolID {
    // A byte search: a Character search walks grapheme clusters, and every symbol is asked.
    identity.utf8.firstIndex(of: 1).map { String(identity[..<$0]) } ?? identity
  }

  public static func isSwift(_ symbol: SymbolID) -> Bool { symbol.hasPrefix("swift:") }

  /// A Swift call on a value or a type's member: certainly Swift code.
  public static func isSwiftMemberCall(_ symbol: SymbolID) -> Bool { symbol.hasPrefix("swift:.") }

  /// The name another file defines or calls the function by; nil for a file-local symbol,
  /// which only its own translation unit can see.
  public static func linkName(_ symbol: SymbolID) -> String? {
    let symbol = linked(symbol)
    if symbol.hasPrefix("c:@F@") { return String(symbol.dropFirst(5)) }
    if symbol.hasPrefix("swift:"), !symbol.utf8.contains(UInt8(ascii: "#")) { return String(symbol.dropFirst(6)) }
    return nil
  }

  /// For `swift:name`, the name: a call by name that may land on a C function.
  public static func swiftCallName(_ symbol: SymbolID) -> String? {
    // Byte searches: String.contains(String) is Foundation's, and every call site asks.
    guard symbol.hasPrefix("swift:"), !symbol.hasPrefix("swift:."), !symbol.utf8.contains(UInt8(ascii: "#")),
      !symbol.utf8.contains(1)
    else { return nil }
    return String(symbol.dropFirst(6))
  }

  /// For a method `swift:Type.name`, `name`.
  public static func swiftMethodBaseName(_ symbol: SymbolID) -> String? {
    guard let name = swiftCallName(symbol), let dot = name.lastIndex(of: "."), dot != name.startIndex else {
      return nil
    }
    return String(name[name.index(after: dot)...])
  }

  /// The symbols a use of `symbol` may link to: a Swift call by name may land on C.
  public static func linkAliases(of symbol: SymbolID) -> [SymbolID] {
    swiftCallName(symbol).map { [symbol, cExternal($0)] } ?? [symbol]
  }
}

extension SymbolSpelling {
  /// Where a program starts: C's `main`, Swift's top-level code.
  public static func isProgramEntry(_ symbol: SymbolID, name: String) -> Bool {
    let linked = linked(symbol)
    return linked == cExternal("main") || (linked.hasPrefix("swift:") && linked.hasSuffix("#main"))
  }
}
