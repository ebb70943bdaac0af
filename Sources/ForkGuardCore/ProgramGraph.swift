import Synchronization

/// Which definitions may stand for a name across programs: a tree holds several programs,
/// and test doubles, interposers and other platforms' files define names again.
public struct LinkPolicy: Sendable {
  /// A name the C library defines (`getpid`, `execl`, `malloc`…): a project definition of it
  /// is an interposer or a test double, and stands only for callers in its own folder.
  public var isLibraryFunction: @Sendable (String) -> Bool
  /// A file built only for another platform (`*-aix.c`, `compat/mingw.c`…): its definitions
  /// stand only for callers in the same file.
  public var isOtherPlatformFile: @Sendable (String) -> Bool

  /// The program a file belongs to, when the user named programs by hand.
  public var programOf: @Sendable (String) -> String?
  /// A Swift library method the knowledge base describes (`append`, `removeAll`): a call of
  /// that name on a value is the library's, even when a project type has a method so named.
  public var isSwiftLibraryMethod: @Sendable (String) -> Bool = { _ in false }
  /// A file built only into a library the tree's own programs link and nobody installs
  /// (automake's `noinst_LIBRARIES`): what no program reaches in it is never called.
  public var isPrivateLibraryFile: @Sendable (String) -> Bool

  public init(
    isLibraryFunction: @escaping @Sendable (String) -> Bool = { _ in false },
    isOtherPlatformFile: @escaping @Sendable (String) -> Bool = { _ in false },
    programOf: @escaping @Sendable (String) -> String? = { _ in nil },
    isPrivateLibraryFile: @escaping @Sendable (String) -> Bool = { _ in false }
  ) {
    self.isPrivateLibraryFile = isPrivateLibraryFile
    self.isLibraryFunction = isLibraryFunction
    self.isOtherPlatformFile = isOtherPlatformFile
    self.programOf = programOf
  }
}

/// All files' facts linked by symbol: one call graph across files and languages.
public struct ProgramGraph: Sendable {
  public let files: [FileFacts]
  /// Every function by its identity. A symbol defined in several places (one `main` per
  /// program, a `quit` in each of two programs) gets one identity per definition
  /// (`SymbolSpelling.definition`); the same definition seen through several translation
  /// units (a `static inline` in a header) is one.
  public let functions: [SymbolID: FunctionFacts]
  /// The identities of each linked symbol's definitions, in path order.
  private let definitionsBySymbol: [SymbolID: [SymbolID]]
  /// How each linked symbol is resolved for a caller.
  private var links: [SymbolID: Link] = [:]
  /// Which definition each caller's file links to, for symbols defined more than once:
  /// every call site asks, and choosing walks the candidates' folders.
  private let choices = LinkChoices()
  /// Swift methods by file and base name, for a bare call inside a type.
  private let swiftMethods: [String: [String: SymbolID]]
  /// Swift methods (and computed-property getters) by base name, across the program.
  private let swiftMethodsByName: [String: [SymbolID]]
  private let storesByVariable: [SymbolID: [FunctionReference]]
  private let policy: LinkPolicy
  /// Every handler registration: those the front ends saw, and the calls to registration
  /// wrappers (`RegistrationWrappers`).
  public private(set) var registrations: [HandlerRegistration] = []
  /// Files in programs named by hand.
  private var programByFile: [String: String] = [:]
  /// Functions compared against somewhere (`!= INVALID_SIGNAL_HANDLER`): sentinels.
  private var comparedFunctions = Set<SymbolID>()
  /// Files built for another platform, judged by their path below the files' common folder.
  private let otherPlatformFiles: Set<String>
  /// Integer variables with static storage whose every store is known, and the bits they
  /// can hold.
  private var knownVariableBits: [SymbolID: Int] = [:]
  /// Each `main` by the file that defines it, and the folders that hold them.
  private var entryByFile: [String: SymbolID] = [:]
  private var entriesByFolder: [Substring: [SymbolID]] = [:]

  public init(files: [FileFacts], policy: LinkPolicy = LinkPolicy()) {
    let files = files.sorted { $0.path < $1.path }
    self.files = files
    self.policy = policy
    var places: [SymbolID: [SourceLocation: FunctionFacts]] = [:]
    var stores: [SymbolID: [FunctionReference]] = [:]
    for file in files {
      for function in file.functions where places[function.symbol]?[function.location] == nil {
        places[function.symbol, default: [:]][function.location] = function
      }
      for store in file.pointerStores {
        if !(stores[store.variable]?.contains(store.value) ?? false) {
          stores[store.variable, default: []].append(store.value)
        }
      }
    }
    var functions: [SymbolID: FunctionFacts] = [:]
    var definitions: [SymbolID: [SymbolID]] = [:]
    var methods: [String: [String: SymbolID]] = [:]
    var methodsByName: [String: [SymbolID]] = [:]
    for (symbol, byPlace) in places {
      let sorted = byPlace.values.sorted { $0.location < $1.location }
      for function in sorted {
        var defined = function
        if sorted.count > 1 { defined.symbol = SymbolSpelling.definition(symbol, at: function.location) }
        functions[defined.symbol] = defined
        definitions[symbol, default: []].append(defined.symbol)
        if let base = SymbolSpelling.swiftMethodBaseName(symbol) {
          methods[function.location.file, default: [:]][base] = defined.symbol
          methodsByName[base, default: []].append(defined.symbol)
        }
      }
    }
    self.functions = functions
    self.definitionsBySymbol = definitions
    var common: [Substring]?
    for file in files {
      let parts = Self.folder(of: file.path).split(separator: "/", omittingEmptySubsequences: false)
      common = common.map { Array(zip($0, parts).prefix { $0 == $1 }.map(\.0)) } ?? parts
    }
    let root = common?.joined(separator: "/") ?? ""
    self.comparedFunctions = Set(files.flatMap(\.comparedFunctions))
    self.otherPlatformFiles = Set(
      files.map(\.path).filter { path in
        let relative = path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
        return policy.isOtherPlatformFile(relative)
      })
    self.swiftMethods = methods
    self.swiftMethodsByName = methodsByName
    self.storesByVariable = stores
    var placesSeen = Set(files.map(\.path))
    placesSeen.formUnion(functions.values.map(\.location.file))
    for place in placesSeen { if let program = policy.programOf(place) { programByFile[place] = program } }
    // Only `static`s are judged: every store to one is in its own translation unit. A
    // global with external linkage may be stored into by code the run does not read: a
    // source generated at build time (bash's `shopt.def` takes `&mail_warning`), a C++ or
    // Swift file, a plugin loaded at run time (bash's loadable builtins). A static's symbol
    // names its file, which two folders may both hold, so every file's stores count.
    var unknownVariables = Set<SymbolID>()
    var definedVariables = Set<SymbolID>()
    for file in files {
      definedVariables.formUnion(file.definedVariables)
      for (symbol, bits) in file.variableBits {
        if let bits { knownVariableBits[symbol, default: 0] |= bits } else { unknownVariables.insert(symbol) }
      }
    }
    knownVariableBits = knownVariableBits.filter {
      definedVariables.contains($0.key) && !unknownVariables.contains($0.key)
        && SymbolSpelling.externalVariableName($0.key) == nil
    }
    // Sorted once: the entries below and the functions' indices are taken in symbol order.
    let functionsBySymbol = functions.values.sorted { $0.symbol < $1.symbol }
    for function in functionsBySymbol where SymbolSpelling.isProgramEntry(function.symbol, name: function.name) {
      entryByFile[function.location.file] = function.symbol
      entriesByFolder[Self.folder(of: function.location.file), default: []].append(function.symbol)
    }
    for (symbol, identities) in definitions {
      let candidates = identities.compactMap { identity in
        functions[identity].map {
          Candidate(
            function: $0, file: $0.location.file, folder: Self.folder(of: $0.location.file),
            isOtherPlatform: otherPlatformFiles.contains($0.location.file), program: programByFile[$0.location.file])
        }
      }
      let isLibrary = SymbolSpelling.linkName(symbol).map(policy.isLibraryFunction) ?? false
      if candidates.count == 1, !isLibrary, !candidates[0].isOtherPlatform, candidates[0].program == nil {
        links[symbol] = .only(candidates[0].function)
      } else {
        links[symbol] = .choose(candidates, isLibrary: isLibrary)
        // Each definition by its own identity as well: a miss in `links` is then a miss
        // in `functions` too, and most calls (the C library's) miss.
        for candidate in candidates where links[candidate.function.symbol] == nil {
          links[candidate.function.symbol] = .only(candidate.function)
        }
      }
    }
    self.registrations = RegistrationWrappers.registrations(in: self)
    var positions: [SymbolID: Int32] = [:]
    // In symbol order, so that an analysis walking the functions by index walks them in an
    // order that does not depend on the dictionary's.
    for function in functionsBySymbol {
      positions[function.symbol] = Int32(definitionList.count)
      definitionList.append(function)
    }
    // Most calls name a symbol with one definition or none (the C library's); their answer
    // does not depend on the caller, and is looked up once per call instead of resolved
    // (-2: it depends on the caller's file).
    var bySymbol: [SymbolID: Int32] = [:]
    for function in definitionList {
      // By position: a `CallSite` copied out of the array is a dozen references retained.
      let resolved = function.calls.indices.map { position -> Int32 in
        guard let symbol = function.calls[position].symbol else { return -1 }
        if let known = bySymbol[symbol], known != -2 { return known }
        let link = links[symbol]
        if case .only(let definition)? = link {
          let position = positions[definition.symbol] ?? -1
          bySymbol[symbol] = position
          return position
        }
        if link == nil, !SymbolSpelling.isSwift(symbol) {
          bySymbol[symbol] = -1
          return -1
        }
        bySymbol[symbol] = -2
        return definition(of: function.calls[position]).flatMap { positions[$0.symbol] } ?? -1
      }
      calleePositions[function.symbol] = resolved
      calleePositionsByIndex.append(resolved)
    }
  }

  /// The number of functions, which `function(at:)` and `calleeIndices(at:)` take indices
  /// below: analyses that visit every function many times keep their state in arrays by
  /// index rather than hashing symbol strings (sorted by symbol).
  public var functionCount: Int { definitionList.count }
  public func function(at index: Int) -> FunctionFacts { definitionList[index] }
  /// For each call of the function at `index`, the index of the function it runs; -1 where
  /// it runs no project code.
  public func calleeIndices(at index: Int) -> [Int32] { calleePositionsByIndex[index] }

  /// Each function's calls resolved once, by the function's identity: positions in
  /// `definitionList`, -1 where the call runs no project code. The analyses walk every
  /// function's calls many times over; resolving each time was a fifth of their work.
  private var calleePositions: [SymbolID: [Int32]] = [:]
  private var calleePositionsByIndex: [[Int32]] = []
  private var definitionList: [FunctionFacts] = []

  /// What `definition(of:)` gives for each of a function's calls, by position in `calls`.
  public struct Callees {
    fileprivate let positions: [Int32]
    fileprivate let list: [FunctionFacts]

    public subscript(index: Int) -> FunctionFacts? {
      let position = positions[index]
      return position < 0 ? nil : list[Int(position)]
    }

    /// The symbol of the definition the call at `index` runs, without copying the
    /// definition (a `FunctionFacts` is some twenty reference-counted fields, and the
    /// whole-program phases ask for every call's callee many times).
    public func symbol(at index: Int) -> SymbolID? {
      let position = positions[index]
      return position < 0 ? nil : list[Int(position)].symbol
    }

    /// Whether the call at `index` runs project code.
    public func isDefined(at index: Int) -> Bool { positions[index] >= 0 }
  }

  /// The definitions `function`'s calls run, resolved when the graph was made.
  public func callees(of function: FunctionFacts) -> Callees {
    if let positions = calleePositions[function.symbol], positions.count == function.calls.count {
      return Callees(positions: positions, list: definitionList)
    }
    // Not one of the graph's functions: resolved now.
    var list: [FunctionFacts] = []
    let positions = function.calls.map { call -> Int32 in
      guard let definition = definition(of: call) else { return -1 }
      list.append(definition)
      return Int32(list.count - 1)
    }
    return Callees(positions: positions, list: list)
  }

  /// The function a call runs: the definition of its symbol nearest the call. A Swift
  /// call by name (`swift:name`) that no Swift function defines is a call into C, across
  /// the bridge, or to a method of the enclosing type.
  public func definition(of call: CallSite) -> FunctionFacts? {
    call.symbol.flatMap { function(symbol: $0, near: call.location.file, declaredBySystem: call.declaredBySystem) }
  }

  /// The definition of `symbol` that a use in `file` links to. A C library name the caller
  /// sees declared by a system header links to a project definition only in its own folder
  /// (an interposer, a test double); declared by the project (git's `error`), to the
  /// project's.
  public func function(symbol: SymbolID, near file: String, declaredBySystem: Bool = false) -> FunctionFacts? {
    if let link = links[symbol] {
      // None may stand for this caller: the C library's function runs.
      return nearest(link, of: symbol, to: file, declaredBySystem: declaredBySystem)
    }
    if let name = SymbolSpelling.swiftCallName(symbol) {
      if let method = swiftMethods[file]?[name] { return functions[method] }
      return function(symbol: SymbolSpelling.cExternal(name), near: file)
    }
    // `stats.record(sig)`: the receiver's type is not known, but when one project type has
    // a method of that name (and the library has none), that is the one called.
    if SymbolSpelling.isSwiftMemberCall(symbol) {
      let name = String(symbol.dropFirst("swift:.".count))
      if !policy.isSwiftLibraryMethod(name), let methods = swiftMethodsByName[name], methods.count == 1 {
        return functions[methods[0]]
      }
    }
    return nil
  }

  /// By identity (as `functions` keys them) or, for a linked symbol, its first definition.
  public func function(symbol: SymbolID) -> FunctionFacts? {
    functions[symbol] ?? definitionsBySymbol[symbol]?.first.flatMap { functions[$0] }
      ?? SymbolSpelling.swiftCallName(symbol).flatMap { function(symbol: SymbolSpelling.cExternal($0)) }
  }

  /// Same file first, then the definition sharing the longest folder prefix with the
  /// caller; a library name's project definition only for its own folder, another
  /// platform's only for its own file.
  private func nearest(_ link: Link, of symbol: SymbolID, to file: String, declaredBySystem: Bool) -> FunctionFacts? {
    switch link {
    case .only(let function):
      return function
    case .choose(let candidates, let isLibraryName):
      let isLibrary = isLibraryName && declaredBySystem
      let key = LinkChoices.Key(symbol: symbol, file: file, isLibrary: isLibrary)
      if let known = choices.choice(for: key) { return known.map { candidates[$0].function } }
      let chosen = choose(candidates, for: file, isLibrary: isLibrary)
      choices.record(chosen, for: key)
      return chosen.map { candidates[$0].function }
    }
  }

  /// The position in `candidates` of the one that stands for callers in `file`.
  ///
  /// Among the others: a program named by hand for the caller's; then one in the folder of
  /// a `main` whose program covers the caller, at any level above it (a static link takes
  /// the program's own objects first and an archive member only for a symbol they leave
  /// undefined: bash's `variables.c` defines `sh_set_lines_and_columns`, so readline's
  /// `shell.c` copy is never linked); then one not in a `main` file (a tool's own copy of
  /// `file_error`, bash's build-time `mkbuiltins` beside the builtins, is not what they
  /// link to, while a program's `main` file that alone is in such a folder still wins over
  /// a test double elsewhere); then the one sharing the longest folder prefix with the
  /// caller; of those, the one nearer the top (where a build keeps a program's own objects,
  /// and its archives below).
  private func choose(_ candidates: [Candidate], for file: String, isLibrary: Bool) -> Int? {
    let folder = Self.folder(of: file)
    let callerProgram = programByFile[file]
    var programFolders = Set<Substring>()
    var above = folder
    while true {
      if entriesByFolder[above] != nil { programFolders.insert(above) }
      guard let slash = above.utf8.lastIndex(of: UInt8(ascii: "/")) else { break }
      above = above[..<slash]
    }
    var best: (position: Int, rank: (Int, Int, Int, Int, Int))?
    for (position, candidate) in candidates.enumerated() {
      if candidate.file == file { return position }
      if candidate.isOtherPlatform { continue }
      if isLibrary && candidate.folder != folder { continue }
      // Programs named by hand: never another program's definition; its own first.
      if let program = candidate.program, program != callerProgram { continue }
      let rank = (
        candidate.program != nil ? 1 : 0, programFolders.contains(candidate.folder) ? 1 : 0,
        entryByFile[candidate.file] == nil ? 1 : 0, Self.sharedPrefixLength(candidate.folder, folder),
        -candidate.folder.utf8.count { $0 == UInt8(ascii: "/") }
      )
      if best == nil || rank > best!.rank { best = (position, rank) }
    }
    return best?.position
  }

  /// Chosen definitions (positions among the symbol's candidates), by symbol, calling file
  /// and whether the caller sees a system declaration. `nil` is a choice too: the C
  /// library's function.
  final class LinkChoices: Sendable {
    struct Key: Hashable {
      var symbol: SymbolID
      var file: String
      var isLibrary: Bool
    }
    private let chosen = Mutex([Key: Int?]())

    func choice(for key: Key) -> Int?? { chosen.withLock { $0[key] } }
    func record(_ choice: Int?, for key: Key) { chosen.withLock { $0[key] = .some(choice) } }
  }

  /// How a linked symbol finds its definition for a caller. The definitions are held here
  /// as well as in `functions`: every call site asks, and one lookup is half the cost of two.
  enum Link: Sendable {
    /// One definition that stands for every caller.
    case only(FunctionFacts)
    /// Chosen per caller.
    case choose([Candidate], isLibrary: Bool)
  }

  struct Candidate: Sendable {
    var function: FunctionFacts
    var file: String
    var folder: Substring
    var isOtherPlatform: Bool
    var program: String?
  }

  /// The program a file was named part of in the configuration, if any.
  public func program(of file: String) -> String? { programByFile[file] }

  /// The `main`s of the programs a file is part of: the program named for it by hand; the
  /// file's own `main`; else every `main` in the nearest folder at or above it that has
  /// one. Empty for library code no `main` covers.
  public func programEntries(of file: String) -> Set<SymbolID> {
    if let name = programByFile[file] {
      return Set(entryByFile.filter { programByFile[$0.key] == name }.map(\.value))
    }
    if let own = entryByFile[file] { return [own] }
    var folder = Self.folder(of: file)
    while true {
      if let entries = entriesByFolder[folder] { return Set(entries) }
      guard let slash = folder.lastIndex(of: "/") else { break }
      folder = folder[..<slash]
    }
    return entriesByFolder[""].map(Set.init) ?? []
  }

  /// The bits a `static` integer variable (a file's or a function's) can ever hold, when
  /// every store to it is known.
  public func variableBits(_ symbol: SymbolID) -> Int? { knownVariableBits[symbol] }

  /// What the conditions of `function` that read such variables can take as known: each
  /// tested variable's possible bits, by the name the conditions give it.
  public func testedVariableValues(of function: FunctionFacts) -> [String: AbstractValue] {
    guard !function.testedVariables.isEmpty else { return [:] }
    var values: [String: AbstractValue] = [:]
    for (name, symbol) in function.testedVariables {
      if let bits = knownVariableBits[symbol] { values[name] = bits == 0 ? .exactly(0) : .bitsWithin(bits) }
    }
    return values
  }

  /// Whether code in the two files can run in one process: they share a program, or one of
  /// them is library code (which any program may link).
  public func mayShareProcess(_ a: String, _ b: String) -> Bool {
    let (x, y) = (programEntries(of: a), programEntries(of: b))
    return x.isEmpty || y.isEmpty || !x.isDisjoint(with: y)
  }

  /// Whether the file is built only into a library the tree's programs link (never installed).
  public func isPrivateLibraryFile(_ file: String) -> Bool { policy.isPrivateLibraryFile(file) }

  static func folder(of path: String) -> Substring {
    // By bytes: a `Character` search walks grapheme clusters, and this is asked per file
    // and per program at every check.
    guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
    return path[..<slash]
  }

  /// Folder components two folders share, from the root.
  static func sharedPrefixLength(_ a: Substring, _ b: Substring) -> Int {
    var count = 0
    var x = a.utf8.makeIterator()
    var y = b.utf8.makeIterator()
    while true {
      let p = x.next()
      let q = y.next()
      if p == nil || q == nil {
        // Both ended together, or one ends where the other starts a new component.
        if (p == nil && q == nil) || p == UInt8(ascii: "/") || q == UInt8(ascii: "/") { count += 1 }
        return count
      }
      guard p == q else { return count }
      if p == UInt8(ascii: "/") { count += 1 }
    }
  }

  /// The functions a reference may name: itself, or everything ever stored in the variable
  /// (following variables that were assigned from other variables), in a stable order.
  public func functions(for reference: FunctionReference) -> [(symbol: SymbolID, name: String)] {
    var result: [(SymbolID, String)] = []
    var seenFunctions = Set<SymbolID>()
    var seenVariables = Set<SymbolID>()
    var pending = [reference]
    while let next = pending.popLast() {
      switch next {
      case .function(let symbol, let name):
        if seenFunctions.insert(symbol).inserted { result.append((symbol, name)) }
      case .variable(let symbol, _):
        if seenVariables.insert(symbol).inserted {
          pending.append(contentsOf: (storesByVariable[symbol] ?? []).reversed())
        }
      case .parameter:
        // Only a call site knows what a parameter holds.
        continue
      }
    }
    return result
  }

}

/// A function that runs in a restricted context, with the first place it was registered.
public struct HandlerContext: Sendable {
  public var handler: FunctionFacts
  public var registration: HandlerRegistration
  /// Further registrations of the same handler for the same purpose.
  public var otherRegistrations: Int
  /// For a signal handler, every signal number its registrations name; nil when one of
  /// them does not say (any signal may then be delivered).
  public var signals: Set<Int>?
}

extension ProgramGraph {
  /// One context per handler function and kind, however often it is registered; the
  /// earliest registration in report order speaks for all. A signal handler's registration
  /// for one of `uncatchable` (SIGKILL, SIGSTOP) installs nothing and is left out.
  public func handlerContexts(_ kinds: Set<HandlerRegistration.Kind>, uncatchable: Set<Int> = [])
    -> [HandlerContext]
  {
    var byHandler: [String: HandlerContext] = [:]
    let sorted = Set(registrations).sorted {
      ($0.location, $0.kind.rawValue, "\($0.signal as Any)") < ($1.location, $1.kind.rawValue, "\($1.signal as Any)")
    }
    for registration in sorted where kinds.contains(registration.kind) {
      if registration.kind == .signalHandler, case .constant(let number)? = registration.signal,
        uncatchable.contains(number)
      {
        continue
      }
      for (symbol, _) in functions(for: registration.handler) {
        // A function a stored handler is compared against is a sentinel, not a handler.
        if case .function = registration.handler {} else if comparedFunctions.contains(symbol) { continue }
        guard let handler = function(symbol: symbol, near: registration.location.file) else { continue }
        let key = registration.kind.rawValue + "\u{0}" + handler.symbol
        let signals: Set<Int>? = {
          if case .constant(let number)? = registration.signal { return [number] }
          return nil
        }()
        if let known = byHandler[key] {
          byHandler[key]!.otherRegistrations += 1
          byHandler[key]!.signals = known.signals.flatMap { mine in signals.map { mine.union($0) } }
        } else {
          byHandler[key] = HandlerContext(
            handler: handler, registration: registration, otherRegistrations: 0, signals: signals)
        }
      }
    }
    return byHandler.values.sorted {
      ($0.registration.location, $0.handler.name) < ($1.registration.location, $1.handler.name)
    }
  }
}
