/// Facts are what a front end extracts from one file: plain values, language-neutral,
/// so that C and Swift meet only in the `ProgramGraph` and facts can be cached.

/// The link key of a function across files and languages. For C it is clang's USR
/// (`c:@F@name` for external linkage, file-qualified for `static`).
public typealias SymbolID = String

public struct CallSite: Codable, Hashable, Sendable {
  /// The name as written (or as resolved for a direct call).
  public var callee: String
  /// The callee's symbol when the call is direct; nil for calls through a pointer.
  public var symbol: SymbolID?
  public var location: SourceLocation
  /// Arguments that name a lock (by argument index): the lock of a lock function, and locks
  /// passed to other functions, so their summaries can be read in the caller's terms.
  public var lockArguments: [Int: LockReference]
  /// Arguments that are function values (by argument index): what a registration wrapper
  /// passes on to `signal` or `sigaction` is found through these.
  public var functionArguments: [Int: [FunctionReference]]
  /// The callee's declaration says it never returns (`noreturn`, `_Noreturn`, `-> Never`).
  public var neverReturns: Bool
  /// The caller sees the callee declared by a system header (`<unistd.h>`'s `getpid`): a
  /// project's definition of that name elsewhere is not what it links to.
  public var declaredBySystem: Bool
  /// Arguments whose value the call site knows (by argument index): constants, and the
  /// caller's own parameters passed on. A callee's branches on them are decided per call.
  public var argumentValues: [Int: ArgumentValue]
  /// Pointer arguments whose object is known (`ObjectIdentity`), by argument index: a
  /// callee's field locks on its parameters are read as fields of these objects.
  public var objectArguments: [Int: String] = [:]

  public init(
    callee: String, symbol: SymbolID?, location: SourceLocation, lockArguments: [Int: LockReference] = [:],
    functionArguments: [Int: [FunctionReference]] = [:], neverReturns: Bool = false, declaredBySystem: Bool = false,
    argumentValues: [Int: ArgumentValue] = [:]
  ) {
    self.argumentValues = argumentValues
    self.declaredBySystem = declaredBySystem
    self.callee = callee
    self.symbol = symbol
    self.location = location
    self.lockArguments = lockArguments
    self.functionArguments = functionArguments
    self.neverReturns = neverReturns
  }
}

/// What an argument is known to hold where it is passed.
public enum ArgumentValue: Codable, Hashable, Sendable {
  /// An integer constant: a literal, an enumerator, a macro (`SIGHUP`, `REMOVE_DIR_EMPTY_ONLY`).
  case constant(Int)
  /// The calling function's own parameter at this index, passed on unchanged.
  case parameter(Int)
  /// Not a constant, but an `|` of these constant bits with something else
  /// (`CLONE_VM | SIGCHLD | extra`): at least these bits are set.
  case bitsIncluding(Int)
  /// A variable with static storage, passed whole: an integer (`ProgramGraph.variableBits`
  /// says which bits it can ever hold), or a standard stream (`stderr`).
  case variable(SymbolID)
  /// A pointer to a local buffer whose first bytes are known, by offset (telnet's
  /// `tmp + 2` after `*cp++ = IAC; *cp++ = SB; *cp++ = TELOPT_NAWS`).
  case elements([Int: Int])
  /// A string literal (`"%s: %s"`, `"z\n"`), its bytes as UTF-8 without the terminating NUL;
  /// literals longer than `ArgumentValue.longestString` bytes are not kept.
  case string(String)
  /// An integer known to lie in this range: the length of a buffer built through a cursor
  /// whose steps in branches may or may not run (telnet's `cp - tmp - 2` after `PUTSHORT`,
  /// which doubles an IAC byte: 7 to 11).
  case within(low: Int, high: Int)
  /// A pointer into a local buffer built through a cursor, passed with the distance to that
  /// cursor as argument `lengthArgument`: besides the first bytes (`elements`, by offset),
  /// the last ones are known, by distance back from the cursor (`fromEnd[2]` is
  /// `pointer[length - 2]`). telnet's `printsub('>', tmp + 2, cp - tmp - 2)` after
  /// `*cp++ = IAC; *cp++ = SE;` ends in IAC SE whatever the length.
  case delimited(elements: [Int: Int], lengthArgument: Int, fromEnd: [Int: Int])

  public static let longestString = 512

  /// The bytes a callee reads through the pointer, terminating NUL included.
  public var knownBytes: [Int: Int]? {
    switch self {
    case .elements(let elements), .delimited(let elements, _, _): return elements
    case .string(let text):
      var bytes = Dictionary(uniqueKeysWithValues: text.utf8.enumerated().map { ($0.offset, Int($0.element)) })
      bytes[text.utf8.count] = 0
      return bytes
    case .constant, .parameter, .bitsIncluding, .variable, .within: return nil
    }
  }
}

/// Which lock an expression names. Locks are identified as lockdep groups them: a global or
/// static variable is one lock; a field of a named struct type is one lock class, whatever
/// the object (`cfg->mu` and `c->mu`); a parameter is resolved at each call site.
public struct LockReference: Codable, Hashable, Sendable, CustomStringConvertible {
  public enum Kind: String, Codable, Sendable {
    case global, field, parameter, local
  }
  public var kind: Kind
  /// The variable's or field's symbol; for a parameter, its index.
  public var symbol: String
  /// As written where it was seen, e.g. `cfg->mu`.
  public var text: String
  /// For a field: the object it is a field of, where known (`ObjectIdentity`): nil when the
  /// object is unknown (a local pointer, a thread's argument), so that any object of the
  /// type may be meant.
  public var container: String?

  public init(kind: Kind, symbol: String, text: String, container: String? = nil) {
    self.kind = kind
    self.symbol = symbol
    self.text = text
    self.container = container
  }

  /// Identity: the same kind, symbol and (for fields) object.
  public static func == (a: LockReference, b: LockReference) -> Bool {
    a.kind == b.kind && a.symbol == b.symbol && a.container == b.container
  }

  /// Whether the two may be one lock: the same field of objects that are not known to be
  /// different. Every dbus `DBusRMutex` is `mutex->lock`; the one in a global table and the
  /// one a counter points to are not the same lock.
  public func mayAlias(_ other: LockReference) -> Bool {
    guard kind == other.kind, symbol == other.symbol else { return false }
    guard let mine = container, let theirs = other.container else { return true }
    return mine == theirs || ObjectIdentity.isParameter(mine) || ObjectIdentity.isParameter(theirs)
  }
  public func hash(into hasher: inout Hasher) {
    hasher.combine(kind)
    hasher.combine(symbol)
  }

  /// Locks that outlive a call and can be shared between threads.
  public var isShared: Bool { kind == .global || kind == .field }

  public var description: String { text }
}

/// How a front end names the object a pointer or field access is rooted at, so that a
/// field lock can be told apart by its object: a global (`global:<usr>`), the object a field
/// points to (`field:<usr>`), or the enclosing function's parameter (`param:<index>`), read
/// in each caller's terms through `CallSite.objectArguments`.
public enum ObjectIdentity {
  public static func global(_ symbol: String) -> String { "global:" + symbol }
  public static func field(_ symbol: String) -> String { "field:" + symbol }
  public static func parameter(_ index: Int) -> String { "param:\(index)" }
  public static func isParameter(_ identity: String) -> Bool { identity.hasPrefix("param:") }
  public static func parameterIndex(_ identity: String) -> Int? {
    isParameter(identity) ? Int(identity.dropFirst("param:".count)) : nil
  }
}

/// A mutex whose type makes the owner's thread id matter (recursive, error-checking).
public struct LockAttribute: Codable, Hashable, Sendable {
  public var lock: LockReference
  /// `recursive` or `errorcheck`.
  public var type: String
  public var location: SourceLocation
  public init(lock: LockReference, type: String, location: SourceLocation) {
    self.lock = lock
    self.type = type
    self.location = location
  }
}

/// A store to memory the function does not own: a global, a static, or through a pointer.
public struct MemoryWrite: Codable, Hashable, Sendable {
  public enum Target: String, Codable, Sendable {
    /// A global or static variable.
    case global
    /// Memory reached through a pointer, a parameter, or a field of one.
    case indirect
    /// A local variable of the enclosing function.
    case local
  }
  public var target: Target
  /// How the target is written in the source, e.g. `g_state` or `ctx->pid`.
  public var text: String
  /// For `.local` targets, the variable's name (to tell the fork result variable apart).
  public var variable: String?
  public var location: SourceLocation
  /// What a local variable is set to, when the store says: screen's `wi = he = hi = 0`, git's
  /// `int in_signal_handler = !!(flags & TRANSPORT_UNLOCK_PACK_IN_SIGNAL_HANDLER)`.
  public var value: StoredValue?

  public init(
    target: Target, text: String, variable: String? = nil, location: SourceLocation, value: StoredValue? = nil
  ) {
    self.target = target
    self.text = text
    self.variable = variable
    self.location = location
    self.value = value
  }
}

/// A value stored into a local variable that later conditions can test.
public enum StoredValue: Codable, Hashable, Sendable {
  case constant(Int)
  /// 1 where the condition holds, 0 where it does not (a comparison, `!`, `&&`, `||`).
  case truth(Condition)
  /// The value another named place holds at the store (`i = pointer[length - 2]`), named as
  /// conditions name it (`FlowNames`).
  case copy(String)
  /// The variable's own value plus this (`length -= 2`, `n++`).
  case adjusted(Int)
  /// A sum of named variables' values, each times its factor, plus a constant (screen's
  /// `ty = hi + he - 1`, which `ChangeWindowSize(wp, 0, 0, 0)` makes -1).
  case sum(terms: [String: Int], constant: Int)
  /// The variable's own value with these bits set and then only those of `keeping` left
  /// (`flags |= ADDDATE` is `or: ADDDATE, keeping: -1`; `flags &= ~MARK` is `or: 0,
  /// keeping: ~MARK`): after syslogd's `if (…) flags |= ADDDATE;`, a caller's
  /// `ADDDATE|MARK` still decides `if (flags & ADDDATE)`.
  case bits(or: Int, keeping: Int)
}

/// How the flow names the places conditions test, so that a front end and the analyses
/// agree: a variable by its name, an element by its base and index (`pointer[0]`,
/// `pointer[length-2]`).
public enum FlowNames {
  public static func element(_ base: String, at index: Int) -> String { "\(base)[\(index)]" }
  /// `base[variable + offset]`, with the offset's sign written out (`pointer[length-2]`).
  public static func element(_ base: String, at variable: String, plus offset: Int) -> String {
    offset == 0
      ? "\(base)[\(variable)]" : offset < 0 ? "\(base)[\(variable)-\(-offset)]" : "\(base)[\(variable)+\(offset)]"
  }
  /// The variables a name reads: `pointer[length-2]` reads `pointer` and `length`.
  public static func variables(in name: String) -> [String] {
    guard let open = name.firstIndex(of: "["), name.last == "]" else { return [name] }
    let index = name[name.index(after: open)..<name.index(before: name.endIndex)]
    let variable = index.prefix { $0 != "-" && $0 != "+" }
    let base = String(name[..<open])
    return variable.first.map { $0.isLetter || $0 == "_" } == true ? [base, String(variable)] : [base]
  }
  /// Whether the name depends on `variable`'s value: the variable itself, one of its
  /// elements, or an element indexed by it.
  public static func name(_ name: String, dependsOn variable: String) -> Bool {
    guard name.utf8.count >= variable.utf8.count else { return false }
    if name == variable || name.hasPrefix(variable + "[") { return true }
    guard let open = name.firstIndex(of: "[") else { return false }
    let index = name[name.index(after: open)...].dropLast()
    guard index.hasPrefix(variable) else { return false }
    let rest = index.dropFirst(variable.count)
    return rest.isEmpty || rest.first == "-" || rest.first == "+"
  }
}

/// A function-valued expression: a function named directly, or a variable or field that
/// holds one (resolved against every store the program makes to it).
public enum FunctionReference: Codable, Hashable, Sendable {
  case function(symbol: SymbolID, name: String)
  case variable(symbol: SymbolID, name: String)
  /// A parameter of the enclosing function: its callers say what it holds.
  case parameter(index: Int, name: String)
}

/// Every place a function reference is stored into a variable or a field.
public struct PointerStore: Codable, Hashable, Sendable {
  public var variable: SymbolID
  public var value: FunctionReference
  public init(variable: SymbolID, value: FunctionReference) {
    self.variable = variable
    self.value = value
  }
}

public struct FunctionFacts: Codable, Hashable, Sendable {
  public var symbol: SymbolID
  public var name: String
  public var location: SourceLocation
  /// Every call in the body, in source order.
  public var calls: [CallSite]
  /// Stores to globals and through pointers (for contexts that share the parent's memory).
  public var nonLocalWrites: [MemoryWrite]
  /// The body in flow form, for analyses that run after linking (locks).
  public var body: FlowNode
  /// Where control falls off the end of the body.
  public var bodyEnd: SourceLocation
  /// Declared never to return (`__attribute__((noreturn))`, `_Noreturn`, `-> Never`).
  public var neverReturns: Bool
  /// Parameter names in order, as the body's conditions spell them.
  public var parameters: [String]
  /// Integer variables with static storage (globals, `static`s) that the body's conditions
  /// read, by the name the conditions give them. For a `static`, whose every store is in its
  /// own file, what the program ever stores into it (`ProgramGraph.variableBits`) decides
  /// those tests (a flag only ever set to 0).
  public var testedVariables: [String: SymbolID]
  /// Library functions that leave the C locale (`Knowledge.localeSetters`) whose names the
  /// body spells, called or not: without configure's `config.h`, bash's `setlocale` is a
  /// macro that expands to nothing, and the program still sets a locale once built.
  public var spelledLocaleSetters: [String]

  public init(
    symbol: SymbolID, name: String, location: SourceLocation, calls: [CallSite],
    nonLocalWrites: [MemoryWrite], body: FlowNode? = nil, bodyEnd: SourceLocation? = nil, neverReturns: Bool = false,
    parameters: [String] = [], testedVariables: [String: SymbolID] = [:], spelledLocaleSetters: [String] = []
  ) {
    self.testedVariables = testedVariables
    self.spelledLocaleSetters = spelledLocaleSetters
    self.parameters = parameters
    self.neverReturns = neverReturns
    self.symbol = symbol
    self.name = name
    self.location = location
    self.calls = calls
    self.nonLocalWrites = nonLocalWrites
    self.body = body ?? .block(calls.indices.map { .call(index: $0, result: nil) })
    self.bodyEnd = bodyEnd ?? location
  }
}

/// The code that runs in the child between a fork-like call and exec/_exit, inside the
/// function that forks.
public struct ChildRegion: Codable, Hashable, Sendable {
  public var kind: ForkKind
  /// The fork-like function called (`fork`, `_Fork`, `vfork`).
  public var forkCallee: String
  public var forkLocation: SourceLocation
  public var function: SymbolID
  public var functionName: String
  /// Calls the child may make in this function, in source order.
  public var calls: [CallSite]
  /// Where the child leaves the function without exec or _exit (the rest of the program
  /// then runs in the child).
  public var returns: [SourceLocation]
  /// Stores the child makes to memory the parent will see (meaningful for vfork).
  public var writes: [MemoryWrite]
  /// The function returns the fork's result to its caller with the child still possible:
  /// it wraps the fork, and the child goes on in the caller.
  public var returnsForkResult: Bool

  public init(
    kind: ForkKind, forkCallee: String, forkLocation: SourceLocation, function: SymbolID,
    functionName: String, calls: [CallSite], returns: [SourceLocation], writes: [MemoryWrite],
    returnsForkResult: Bool = false
  ) {
    self.returnsForkResult = returnsForkResult
    self.kind = kind
    self.forkCallee = forkCallee
    self.forkLocation = forkLocation
    self.function = function
    self.functionName = functionName
    self.calls = calls
    self.returns = returns
    self.writes = writes
  }
}

public enum ForkKind: String, Codable, Hashable, Sendable {
  case fork
  case vfork
}

/// A function that runs in an async-signal-safe context because of how it is registered.
public struct HandlerRegistration: Codable, Hashable, Sendable {
  public enum Kind: String, Codable, Hashable, Sendable, CaseIterable {
    case signalHandler
    case atforkPrepare
    case atforkParent
    case atforkChild
    /// The entry function of a `clone` child without `CLONE_VM` (a fork child).
    case cloneForkChild
    /// The entry function of a `clone` child with `CLONE_VM|CLONE_VFORK` (a vfork child).
    case cloneVforkChild
    /// The start routine of a thread (`pthread_create`, `thrd_create`).
    case threadStart
  }
  public var kind: Kind
  public var handler: FunctionReference
  /// The registering call or assignment.
  public var location: SourceLocation
  /// What registered it, for the note (`signal`, `sigaction`, `pthread_atfork`, `clone`).
  public var via: String
  public var registeringFunction: String
  /// The registering function's symbol: a registration of its own parameter makes it a
  /// registration wrapper.
  public var registeringSymbol: SymbolID?
  /// For a signal handler, the signal it is registered for, where the call says: a constant
  /// (`SIGTERM`), or the registering function's parameter (a wrapper's `sig`); nil when not
  /// known (a `sigaction` store, a computed number).
  public var signal: ArgumentValue?

  public init(
    kind: Kind, handler: FunctionReference, location: SourceLocation, via: String,
    registeringFunction: String, registeringSymbol: SymbolID? = nil
  ) {
    self.registeringSymbol = registeringSymbol
    self.kind = kind
    self.handler = handler
    self.location = location
    self.via = via
    self.registeringFunction = registeringFunction
  }
}

/// Why a file was analysed only in part.
public struct ParseProblem: Codable, Hashable, Sendable {
  public var location: SourceLocation
  public var message: String
  public var errorCount: Int
  /// Headers the parse could not find (`config.h`), as the include spelled them.
  public var missingHeaders: [String]
  public init(location: SourceLocation, message: String, errorCount: Int, missingHeaders: [String] = []) {
    self.location = location
    self.message = message
    self.errorCount = errorCount
    self.missingHeaders = missingHeaders
  }
}

public struct FileFacts: Codable, Hashable, Sendable {
  public var path: String
  public var functions: [FunctionFacts]
  public var childRegions: [ChildRegion]
  public var registrations: [HandlerRegistration]
  public var pointerStores: [PointerStore]
  public var lockAttributes: [LockAttribute]
  /// Functions compared against (`handler != INVALID_HANDLER`): sentinels, not handlers,
  /// when they reach a registration through a variable.
  public var comparedFunctions: [SymbolID] = []
  /// The integer variables with static storage the file defines or stores into (globals,
  /// `static`s) and the bits it can give them: the OR of the initialiser and of every
  /// constant stored or OR-ed into them (git's `junk_work_tree_flags |=
  /// REMOVE_DIR_KEEP_TOPLEVEL`); nil when a store is not a constant, or the address is taken.
  public var variableBits: [SymbolID: Int?] = [:]
  /// Those of `variableBits` whose definition is in this file: a variable no analysed file
  /// defines lives in code the analysis does not see, which may store anything.
  public var definedVariables: [SymbolID] = []
  /// Set when the parse had errors; the facts hold what the parser recovered.
  public var parseProblem: ParseProblem?
  /// Every file the parse read besides this one (headers), for cache validation.
  public var dependencies: [String] = []

  public init(
    path: String, functions: [FunctionFacts] = [], childRegions: [ChildRegion] = [],
    registrations: [HandlerRegistration] = [], pointerStores: [PointerStore] = [],
    lockAttributes: [LockAttribute] = [], parseProblem: ParseProblem? = nil
  ) {
    self.path = path
    self.functions = functions
    self.childRegions = childRegions
    self.registrations = registrations
    self.pointerStores = pointerStores
    self.lockAttributes = lockAttributes
    self.parseProblem = parseProblem
  }
}
