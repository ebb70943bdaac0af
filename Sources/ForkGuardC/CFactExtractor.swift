import CClang
import ForkGuardCore
import Synchronization

/// Walks one translation unit and collects the facts of every function defined outside
/// system headers.
final class CFactExtractor {
  let knowledge: Knowledge
  let mainFile: String
  let names: FileNames
  private(set) var functions: [FunctionFacts] = []
  private(set) var childRegions: [ChildRegion] = []
  private(set) var registrations: [HandlerRegistration] = []
  private(set) var pointerStores: [PointerStore] = []
  private(set) var lockAttributes: [LockAttribute] = []
  private(set) var comparedFunctions = Set<SymbolID>()
  private var seenPointerStores = Set<PointerStore>()
  /// `isDeclaredNoReturn` by declaration: it reads tokens, from the spelling of the
  /// declaration's start, which in an amalgamation can be a macro defined far above (SQLite's
  /// `SQLITE_PRIVATE`), and every call asks it of its callee's declaration again.
  private var noReturnByDeclaration: [UInt32: [(declaration: CXCursor, noReturn: Bool)]] = [:]

  func isDeclaredNoReturn(_ declaration: Cursor) -> Bool {
    let hash = clang_hashCursor(declaration.raw)
    if let known = noReturnByDeclaration[hash]?.first(where: {
      clang_equalCursors($0.declaration, declaration.raw) != 0
    }) {
      return known.noReturn
    }
    let noReturn = declaration.isDeclaredNoReturn
    noReturnByDeclaration[hash, default: []].append((declaration.raw, noReturn))
    return noReturn
  }

  init(knowledge: Knowledge, mainFile: String, names: FileNames) {
    self.names = names
    self.knowledge = knowledge
    self.mainFile = mainFile
  }

  /// What an extraction collected, to start another unit's from: a precompiled prefix
  /// header's declarations are walked once, not in every unit that loads it.
  struct Collected: Sendable {
    var functions: [FunctionFacts]
    var childRegions: [ChildRegion]
    var registrations: [HandlerRegistration]
    var pointerStores: [PointerStore]
    var lockAttributes: [LockAttribute]
    var comparedFunctions: Set<SymbolID>
    var variableBits: [SymbolID: Int?]
    var definedVariables: Set<SymbolID>
  }

  var collected: Collected {
    Collected(
      functions: functions, childRegions: childRegions, registrations: registrations, pointerStores: pointerStores,
      lockAttributes: lockAttributes, comparedFunctions: comparedFunctions, variableBits: variableBits,
      definedVariables: definedVariables)
  }

  /// Continues from `collected`, as if this unit's walk had already seen those declarations.
  func start(from collected: Collected) {
    functions = collected.functions
    childRegions = collected.childRegions
    registrations = collected.registrations
    pointerStores = collected.pointerStores
    seenPointerStores = Set(collected.pointerStores)
    lockAttributes = collected.lockAttributes
    comparedFunctions = collected.comparedFunctions
    variableBits = collected.variableBits
    definedVariables = collected.definedVariables
  }

  func extract(from unit: Cursor) {
    for declaration in unit.children where !declaration.isInSystemHeader {
      switch declaration.kind {
      case CXCursor_FunctionDecl where declaration.isDefinition:
        function(declaration)
      case CXCursor_VarDecl:
        let lowering = CFunctionLowering(extractor: self, functionName: declaration.spelling)
        _ = lowering.declaration(declaration)
      default:
        continue
      }
    }
  }

  private func function(_ declaration: Cursor) {
    guard let body = declaration.children.last(where: { $0.kind == CXCursor_CompoundStmt }),
      let location = declaration.location(in: names)
    else { return }
    let name = declaration.spelling
    let symbol = declaration.usr
    // Asked of the declaration, not read from its children: a function returning a function
    // pointer (screen's `sigret_t (*xsignal(int sig, sigret_t (*func)(int)))(int)`) has the
    // return type's parameters among its children too.
    let parameters = declaration.callArguments
    let lowering = CFunctionLowering(
      extractor: self, functionName: name, functionSymbol: symbol, parameters: parameters)
    let flow = lowering.statement(body)
    let calls = lowering.calls
    var bodyEnd = body.extentEnd(in: names) ?? location
    bodyEnd.column = max(1, bodyEnd.column - 1)
    functions.append(
      FunctionFacts(
        symbol: symbol, name: name, location: location, calls: calls,
        nonLocalWrites: lowering.writes.filter { $0.target != .local }, body: flow, bodyEnd: bodyEnd,
        neverReturns: declaration.isDeclaredNoReturn, parameters: parameters.map(\.spelling),
        testedVariables: lowering.testedVariables,
        spelledLocaleSetters: body.spelledIdentifiers(among: localeSetters, fileSpells: fileSpellsLocaleSetter)))

    childRegions += ChildRegionAnalysis.childRegions(of: functions.last!, knowledge: knowledge)
  }

  /// `Knowledge.localeSetters`, in a fixed order.
  private lazy var localeSetters = knowledge.localeSetters.sorted()
  /// Whether each file of the unit (by its handle, fixed for the unit's life) spells one of
  /// them anywhere.
  private var filesSpellingLocaleSetters: [Int: Bool] = [:]
  /// The same for headers, by path, size and modification time, for the whole process:
  /// glib's units each include a few megabytes of headers with inline functions, and
  /// searching them again in every unit was a quarter of its parse.
  private static let headersSpellingLocaleSetters = Mutex([String: Bool]())

  private func fileSpellsLocaleSetter(_ file: CXFile, _ bytes: UnsafeRawBufferPointer) -> Bool {
    let key = Int(bitPattern: file)
    if let known = filesSpellingLocaleSetters[key] { return known }
    let path = clang_getFileName(file).consume()
    // The unit's own file may be an editor's buffer: searched afresh.
    let headerKey: String? =
      path == mainFile ? nil : "\(path)\u{0}\(bytes.count)\u{0}\(clang_getFileTime(file))"
    if let headerKey, let known = Self.headersSpellingLocaleSetters.withLock({ $0[headerKey] }) {
      filesSpellingLocaleSetters[key] = known
      return known
    }
    let spells = !Cursor.identifiers(localeSetters, spelledIn: bytes[...]).isEmpty
    filesSpellingLocaleSetters[key] = spells
    if let headerKey { Self.headersSpellingLocaleSetters.withLock { $0[headerKey] = spells } }
    return spells
  }

  // MARK: Sinks used while lowering

  func addRegistration(_ registration: HandlerRegistration) {
    registrations.append(registration)
  }

  /// Bits stored into each integer variable with static storage (a global, a `static`);
  /// nil once a store is not a constant (or the address is taken).
  private(set) var variableBits: [SymbolID: Int?] = [:]
  /// Those of them this file defines.
  private(set) var definedVariables = Set<SymbolID>()

  func noteVariableStore(_ symbol: SymbolID, bits: Int?) {
    let known: Int? = variableBits[symbol] ?? 0
    let updated: Int? = known.flatMap { known in bits.flatMap { $0 >= 0 ? known | $0 : nil } }
    // Kept as an entry holding nil: assigning nil through the subscript would remove it, and
    // a later constant store would then look like the only one.
    variableBits.updateValue(updated, forKey: symbol)
  }

  func noteVariableDefinition(_ symbol: SymbolID, bits: Int?) {
    definedVariables.insert(symbol)
    noteVariableStore(symbol, bits: bits)
  }

  func addComparedFunction(_ symbol: SymbolID) {
    comparedFunctions.insert(symbol)
  }

  func addLockAttribute(_ attribute: LockAttribute) {
    lockAttributes.append(attribute)
  }

  func addPointerStore(_ store: PointerStore) {
    if seenPointerStores.insert(store).inserted { pointerStores.append(store) }
  }
}
