import ForkGuardCore
import Foundation
import SwiftParser
import SwiftSyntax

/// Turns Swift files into the same `FileFacts` the C front end makes, with swift-syntax.
///
/// Symbols: a Swift function is `swift:name` (`swift:Type.name` for a method); a call by
/// name that no Swift function defines links to the C function of that name
/// (`ProgramGraph.function(symbol:)`), and `@_cdecl("name")` makes a Swift function `c:@F@name`
/// for C callers: one graph across the bridge. Top-level code is a function named `main`;
/// a closure registered as a handler or thread body is a function of its own.
public final class SwiftFrontEnd {
  public struct ParseFailure: Error, CustomStringConvertible {
    public var file: String
    public var problem: String
    public var description: String { "\(file): \(problem)" }
  }

  private let knowledge: Knowledge
  /// What the knowledge says of each callee name, asked once per name rather than once per
  /// call (a SwiftFrontEnd serves one thread: the driver makes one per worker).
  private let callees: CalleeTable

  public init(knowledge: Knowledge) {
    self.knowledge = knowledge
    self.callees = CalleeTable(knowledge: knowledge)
  }

  public func facts(for path: String, text: String? = nil) throws -> FileFacts {
    let source: String
    if let text {
      source = text
    } else {
      guard let data = FileManager.default.contents(atPath: path) else {
        throw ParseFailure(file: path, problem: "cannot read file")
      }
      source = String(decoding: data, as: UTF8.self)
    }
    let text = SourceText(source)
    let depth = text.bytes.withUnsafeBufferPointer { BracketNesting.deepest(in: $0) }
    guard depth <= BracketNesting.limit else {
      throw ParseFailure(
        file: path,
        problem:
          "'[' nests \(depth) deep; swift-syntax's parser takes time exponential in that depth (it doubles with each level), so forkguard does not parse Swift nesting deeper than \(BracketNesting.limit)"
      )
    }
    let parsed = Parser.parse(source: source)
    // Operators are folded where the lowering reads an expression (SourceText.folded), and
    // locations come from a line table over the bytes, not a SourceLocationConverter.
    let extractor = SwiftFactExtractor(path: path, text: text, knowledge: knowledge, callees: callees)
    extractor.extract(parsed)
    var facts = FileFacts(path: path)
    facts.functions = extractor.functions
    facts.childRegions = extractor.functions.flatMap { ChildRegionAnalysis.childRegions(of: $0, knowledge: knowledge) }
    facts.registrations = extractor.registrations
    facts.pointerStores = extractor.pointerStores
    facts.registrations += CallRegistrations.registrations(in: facts, knowledge: knowledge)
    if parsed.hasError {
      facts.parseProblem = ParseProblem(
        location: extractor.firstErrorLocation(parsed) ?? ForkGuardCore.SourceLocation(file: path, line: 1, column: 1),
        message: "Swift syntax errors", errorCount: 1)
    }
    return facts
  }
}

/// Walks one Swift file: functions, top-level code, registered closures.
final class SwiftFactExtractor {
  let path: String
  let text: SourceText
  let knowledge: Knowledge
  let callees: CalleeTable
  var functions: [FunctionFacts] = []
  var registrations: [HandlerRegistration] = []
  var pointerStores: [PointerStore] = []
  /// Variables and properties of this file declared as a Foundation lock, by name: their
  /// `lock()` and `unlock()` are lock calls.
  var lockTypes: [String: String] = [:]

  init(path: String, text: SourceText, knowledge: Knowledge, callees: CalleeTable) {
    self.path = path
    self.text = text
    self.knowledge = knowledge
    self.callees = callees
  }

  func location(_ node: some SyntaxProtocol) -> ForkGuardCore.SourceLocation {
    let place = text.lineAndColumn(text.offset(node.positionAfterSkippingLeadingTrivia, in: node))
    return ForkGuardCore.SourceLocation(file: path, line: place.line, column: place.column)
  }

  func endLocation(_ node: some SyntaxProtocol) -> ForkGuardCore.SourceLocation {
    let place = text.lineAndColumn(text.offset(node.endPositionBeforeTrailingTrivia, in: node))
    return ForkGuardCore.SourceLocation(file: path, line: place.line, column: max(place.column - 1, 1))
  }

  func firstErrorLocation(_ tree: SourceFileSyntax) -> ForkGuardCore.SourceLocation? {
    for token in tree.tokens(viewMode: .all) where token.presence == .missing || token.hasError {
      return location(token)
    }
    return nil
  }

  /// Closures kept in a variable or constant of the file (`let onTerm = { … }`), by name.
  private(set) var closureBindings: [String: ClosureExprSyntax] = [:]
  /// Functions the file declares, by name.
  private(set) var functionNames = Set<String>()
  /// Variables and properties declared as Swift arrays, dictionaries or sets.
  private(set) var collectionNames = Set<String>()
  /// Computed properties by name, to the `Type.name` of their getter: a read runs it.
  private(set) var computedProperties: [String: String] = [:]

  func extract(_ file: SourceFileSyntax) {
    // One walk of the whole tree: the names below and the lock variables.
    let names = NameCollector(text: text, lockTypeNames: callees.lockTypeNames)
    names.walk(file)
    lockTypes = names.lockTypes
    closureBindings = names.closures
    functionNames = names.functions
    collectionNames = names.collections
    computedProperties = names.computedProperties.filter { !$0.value.isEmpty }
    var topLevel: [CodeBlockItemSyntax] = []
    func collect(_ items: CodeBlockItemListSyntax) {
      for item in items {
        if let conditional = item.item.as(IfConfigDeclSyntax.self) {
          // Declarations in every #if clause are extracted; statements stay top-level code.
          for clause in conditional.clauses {
            if case .statements(let statements) = clause.elements { collect(statements) }
          }
        } else if let declaration = item.item.as(DeclSyntax.self), !declaration.is(VariableDeclSyntax.self) {
          declarations(declaration, in: nil)
        } else {
          topLevel.append(item)
        }
      }
    }
    collect(file.statements)
    if !topLevel.isEmpty {
      let lowering = SwiftLowering(extractor: self, functionName: "main")
      let body = lowering.block(topLevel)
      // Top-level code runs as the program's entry only in main.swift or in a script with
      // statements; elsewhere top-level variables are globals, initialised lazily.
      let isEntry =
        (path as NSString).lastPathComponent == "main.swift"
        || topLevel.contains { !$0.item.is(VariableDeclSyntax.self) }
      add(
        symbol: isEntry ? SymbolSpelling.swiftTopLevel(file: path) : SymbolSpelling.swiftGlobals(file: path),
        name: "main", location: location(topLevel[0]), lowering: lowering, body: body,
        end: endLocation(topLevel[topLevel.count - 1]))
    }
  }

  private func declarations(_ declaration: DeclSyntax, in type: String?) {
    if let function = declaration.as(FunctionDeclSyntax.self) {
      self.function(function, in: type)
    } else if let variable = declaration.as(VariableDeclSyntax.self), let type {
      computedPropertyGetters(variable, in: type)
    } else if let type = declaration.as(StructDeclSyntax.self) {
      members(type.memberBlock, in: type.name.text)
    } else if let type = declaration.as(ClassDeclSyntax.self) {
      members(type.memberBlock, in: type.name.text)
    } else if let type = declaration.as(EnumDeclSyntax.self) {
      members(type.memberBlock, in: type.name.text)
    } else if let type = declaration.as(ActorDeclSyntax.self) {
      members(type.memberBlock, in: type.name.text)
    } else if let extensionDeclaration = declaration.as(ExtensionDeclSyntax.self) {
      members(extensionDeclaration.memberBlock, in: text.text(of: extensionDeclaration.extendedType))
    }
  }

  private func members(_ block: MemberBlockSyntax, in type: String) {
    for member in block.members { memberDeclaration(member.decl, in: type) }
  }

  private func memberDeclaration(_ declaration: DeclSyntax, in type: String) {
    if let conditional = declaration.as(IfConfigDeclSyntax.self) {
      for clause in conditional.clauses {
        if case .decls(let members) = clause.elements {
          for member in members { memberDeclaration(member.decl, in: type) }
        }
      }
    } else {
      declarations(declaration, in: type)
    }
  }

  private func function(_ declaration: FunctionDeclSyntax, in type: String?) {
    guard let body = declaration.body else { return }
    let name = type.map { "\($0).\(declaration.name.text)" } ?? declaration.name.text
    var symbol = SymbolSpelling.swift(name)
    // @_cdecl("c_name") exports the function to C under that name.
    for attribute in declaration.attributes {
      guard let attribute = attribute.as(AttributeSyntax.self), text.text(of: attribute.attributeName) == "_cdecl",
        let argument = attribute.arguments?.as(LabeledExprListSyntax.self)?.first?.expression.as(
          StringLiteralExprSyntax.self),
        let exported = argument.representedLiteralValue
      else { continue }
      symbol = SymbolSpelling.cExternal(exported)
    }
    let lowering = SwiftLowering(extractor: self, functionName: name, enclosingType: type, functionSymbol: symbol)
    lowering.declareParameters(
      declaration.signature.parameterClause.parameters.map { ($0.secondName ?? $0.firstName).text })
    let flow = lowering.block(Array(body.statements))
    let returnsNever = declaration.signature.returnClause.map { text.text(of: $0.type) } == "Never"
    add(
      symbol: symbol, name: name, location: location(declaration.name), lowering: lowering, body: flow,
      end: endLocation(body), neverReturns: returnsNever)
  }

  /// `var total: Int { … }`: the getter is a function `Type.total` that every read runs.
  private func computedPropertyGetters(_ variable: VariableDeclSyntax, in type: String) {
    for binding in variable.bindings {
      guard let name = binding.pattern.as(IdentifierPatternSyntax.self)?.identifier.text,
        let body = NameCollector.getterBody(binding)
      else { continue }
      let qualified = "\(type).\(name)"
      let lowering = SwiftLowering(extractor: self, functionName: qualified, enclosingType: type)
      let flow = lowering.block(Array(body))
      add(
        symbol: SymbolSpelling.swift(qualified), name: qualified, location: location(binding.pattern),
        lowering: lowering, body: flow, end: endLocation(binding))
    }
  }

  /// A closure that runs elsewhere (a signal handler, a thread body) as a function of its own.
  func closureFunction(_ closure: ClosureExprSyntax, purpose: String, enclosingType: String?) -> FunctionReference {
    let place = location(closure)
    let name = "closure at line \(place.line)"
    let symbol = SymbolSpelling.swiftClosure(file: path, line: place.line, column: place.column)
    let lowering = SwiftLowering(extractor: self, functionName: name, enclosingType: enclosingType)
    lowering.declareParameters(Self.parameterNames(of: closure))
    let flow = lowering.block(Array(closure.statements))
    add(symbol: symbol, name: name, location: place, lowering: lowering, body: flow, end: endLocation(closure))
    return .function(symbol: symbol, name: name)
  }

  /// `{ signal in … }`, `{ (signal: Int32) in … }`, or `$0` when the closure names none.
  static func parameterNames(of closure: ClosureExprSyntax) -> [String] {
    switch closure.signature?.parameterClause {
    case .simpleInput(let shorthand)?: return shorthand.map(\.name.text)
    case .parameterClause(let clause)?: return clause.parameters.map { ($0.secondName ?? $0.firstName).text }
    case nil: return ["$0", "$1", "$2"]
    }
  }

  private func add(
    symbol: String, name: String, location: ForkGuardCore.SourceLocation, lowering: SwiftLowering, body: FlowNode,
    end: ForkGuardCore.SourceLocation, neverReturns: Bool = false
  ) {
    functions.append(
      FunctionFacts(
        symbol: symbol, name: name, location: location, calls: lowering.calls,
        nonLocalWrites: lowering.writes.filter { $0.target != .local }, body: body, bodyEnd: end,
        neverReturns: neverReturns, parameters: lowering.parameters))
  }
}

/// The closures a file keeps in variables, the functions it declares, and its variables of
/// lock types, by name.
private final class NameCollector: SyntaxVisitor {
  let text: SourceText
  let lockTypeNames: Set<String>
  /// `let lock = NSLock()`, `var lock: NSRecursiveLock`, anywhere in the file: name to type.
  var lockTypes: [String: String] = [:]
  var closures: [String: ClosureExprSyntax] = [:]
  var functions = Set<String>()
  var collections = Set<String>()
  /// Name to `Type.name`; empty when two types declare the name (a read is then not known).
  var computedProperties: [String: String] = [:]

  static let collectionTypes: Set<String> = ["Array", "Dictionary", "Set", "ContiguousArray"]

  init(text: SourceText, lockTypeNames: Set<String>) {
    self.text = text
    self.lockTypeNames = lockTypeNames
    super.init(viewMode: .sourceAccurate)
  }

  // Lock variables were found by a walk of their own (and before that by asking every token
  // its kind, a String per identifier): a walk of the whole tree is a tenth of the front end.
  override func visit(_ node: VariableDeclSyntax) -> SyntaxVisitorContinueKind {
    let specifier = node.bindingSpecifier.tokenKind
    guard specifier == .keyword(.let) || specifier == .keyword(.var) else { return .visitChildren }
    for binding in node.bindings {
      guard let name = binding.pattern.as(IdentifierPatternSyntax.self)?.identifier.text else { continue }
      var type = binding.typeAnnotation.map { text.text(of: $0.type) }
      if type == nil, let call = binding.initializer?.value.as(FunctionCallExprSyntax.self) {
        type = call.calledExpression.as(DeclReferenceExprSyntax.self)?.baseName.text
      }
      if let type, lockTypeNames.contains(type) { lockTypes[name] = type }
    }
    return .visitChildren
  }

  static func getterBody(_ binding: PatternBindingSyntax) -> CodeBlockItemListSyntax? {
    switch binding.accessorBlock?.accessors {
    case .getter(let items)?: return items
    case .accessors(let list)?: return list.first { $0.accessorSpecifier.tokenKind == .keyword(.get) }?.body?.statements
    case nil: return nil
    }
  }

  private static func isCollection(_ binding: PatternBindingSyntax) -> Bool {
    if let type = binding.typeAnnotation?.type {
      if type.is(ArrayTypeSyntax.self) || type.is(DictionaryTypeSyntax.self) { return true }
      if let named = type.as(IdentifierTypeSyntax.self), collectionTypes.contains(named.name.text) { return true }
    }
    guard var value = binding.initializer?.value else { return false }
    if let call = value.as(FunctionCallExprSyntax.self) { value = call.calledExpression }
    if value.is(ArrayExprSyntax.self) || value.is(DictionaryExprSyntax.self) { return true }
    if let generic = value.as(GenericSpecializationExprSyntax.self) { value = generic.expression }
    return value.as(DeclReferenceExprSyntax.self).map { collectionTypes.contains($0.baseName.text) } ?? false
  }

  override func visit(_ node: PatternBindingSyntax) -> SyntaxVisitorContinueKind {
    if let name = node.pattern.as(IdentifierPatternSyntax.self)?.identifier.text, let value = node.initializer?.value,
      let closure = value.as(ClosureExprSyntax.self) ?? closureCast(value)?.expression.as(ClosureExprSyntax.self),
      closures[name] == nil
    {
      closures[name] = closure
    }
    if let name = node.pattern.as(IdentifierPatternSyntax.self)?.identifier.text {
      if Self.isCollection(node) { collections.insert(name) }
      if Self.getterBody(node) != nil, let type = enclosingType(of: node) {
        computedProperties[name] = computedProperties[name] == nil ? "\(type).\(name)" : ""
      }
    }
    return text.hasBrace(node) ? .visitChildren : .skipChildren
  }

  /// `{ … } as @convention(c) (Int32) -> Void`: a sequence that folds to a cast of a closure
  /// starts with the closure, so only those are folded.
  private func closureCast(_ value: ExprSyntax) -> AsExprSyntax? {
    guard let sequence = value.as(SequenceExprSyntax.self), sequence.elements.first?.is(ClosureExprSyntax.self) == true
    else { return value.as(AsExprSyntax.self) }
    return text.folded(value).as(AsExprSyntax.self)
  }

  private func enclosingType(of node: some SyntaxProtocol) -> String? {
    var current = node.parent
    while let next = current {
      if let type = next.as(StructDeclSyntax.self) { return type.name.text }
      if let type = next.as(ClassDeclSyntax.self) { return type.name.text }
      if let type = next.as(EnumDeclSyntax.self) { return type.name.text }
      if let type = next.as(ActorDeclSyntax.self) { return type.name.text }
      if let type = next.as(ExtensionDeclSyntax.self) { return text.text(of: type.extendedType) }
      if next.is(FunctionDeclSyntax.self) || next.is(ClosureExprSyntax.self) { return nil }
      current = next.parent
    }
    return nil
  }

  override func visit(_ node: FunctionDeclSyntax) -> SyntaxVisitorContinueKind {
    functions.insert(node.name.text)
    return .visitChildren
  }

  // What this collects is in declarations (of variables, functions, types), and a statement,
  // an expression or a binding holds one only inside braces (a closure, a body, an accessor):
  // the subtrees of those without a `{` are not walked. Walking every node of the file was
  // most of this visitor's time.
  override func visit(_ node: CodeBlockItemSyntax) -> SyntaxVisitorContinueKind {
    if node.item.is(DeclSyntax.self) { return .visitChildren }
    return text.hasBrace(node) ? .visitChildren : .skipChildren
  }

  override func visit(_ node: LabeledExprListSyntax) -> SyntaxVisitorContinueKind {
    text.hasBrace(node) ? .visitChildren : .skipChildren
  }

  override func visit(_ node: ConditionElementListSyntax) -> SyntaxVisitorContinueKind {
    text.hasBrace(node) ? .visitChildren : .skipChildren
  }

  // The parts of a declaration around its body: a default argument or an attribute's
  // argument holds a declaration only inside a closure.
  override func visit(_ node: FunctionSignatureSyntax) -> SyntaxVisitorContinueKind {
    text.hasBrace(node) ? .visitChildren : .skipChildren
  }

  override func visit(_ node: AttributeListSyntax) -> SyntaxVisitorContinueKind {
    text.hasBrace(node) ? .visitChildren : .skipChildren
  }

  override func visit(_ node: InheritanceClauseSyntax) -> SyntaxVisitorContinueKind {
    text.hasBrace(node) ? .visitChildren : .skipChildren
  }

  override func visit(_ node: GenericParameterClauseSyntax) -> SyntaxVisitorContinueKind {
    text.hasBrace(node) ? .visitChildren : .skipChildren
  }

  override func visit(_ node: GenericWhereClauseSyntax) -> SyntaxVisitorContinueKind {
    text.hasBrace(node) ? .visitChildren : .skipChildren
  }

  override func visit(_ node: SwitchCaseLabelSyntax) -> SyntaxVisitorContinueKind {
    text.hasBrace(node) ? .visitChildren : .skipChildren
  }

  override func visit(_ node: EnumCaseDeclSyntax) -> SyntaxVisitorContinueKind {
    text.hasBrace(node) ? .visitChildren : .skipChildren
  }
}

/// What the knowledge says of a callee name, kept per name: a Swift file calls the same
/// few names many times, and each answer takes searches of the process and lock tables.
final class CalleeTable {
  private let knowledge: Knowledge
  private var handlerArguments: [String: [(HandlerRegistration.Kind, Int)]] = [:]
  private var lockFunctions: [String: LockFunction?] = [:]

  /// The types whose `lock()` and `unlock()` the knowledge knows (`NSLock.lock`: `NSLock`):
  /// a variable of one is a lock.
  let lockTypeNames: Set<String>

  init(knowledge: Knowledge) {
    self.knowledge = knowledge
    lockTypeNames = Set(
      knowledge.locks.keys.compactMap { name -> String? in
        let parts = name.split(separator: ".")
        return parts.count == 2 ? String(parts[0]) : nil
      })
  }

  /// `CallRegistrations.handlerArguments(of:knowledge:)`.
  func handlerArguments(of callee: String) -> [(HandlerRegistration.Kind, Int)] {
    if let known = handlerArguments[callee] { return known }
    let answer = CallRegistrations.handlerArguments(of: callee, knowledge: knowledge)
    handlerArguments[callee] = answer
    return answer
  }

  /// `Knowledge.lockFunction(_:)`.
  func lockFunction(_ callee: String) -> LockFunction? {
    if let known = lockFunctions[callee] { return known }
    let answer = knowledge.lockFunction(callee)
    lockFunctions[callee] = answer
    return answer
  }
}
