import ForkGuardCore
import SwiftSyntax

/// Lowers one Swift body to `FlowNode`, as CFunctionLowering does for C: calls in
/// evaluation order, tests of a fork's result, and the runtime work Swift does unasked
/// (string interpolation, literals that allocate) as calls named `<…>`.
final class SwiftLowering {
  private unowned let extractor: SwiftFactExtractor
  private let functionName: String
  /// The type a method belongs to: its stored properties are lock classes `Type.name`.
  private let enclosingType: String?
  /// Names declared in this body (and parameters): not globals or properties.
  private var locals = Set<String>()
  private var knowledge: Knowledge { extractor.knowledge }
  private(set) var calls: [CallSite] = []
  private(set) var writes: [MemoryWrite] = []

  /// The function's symbol, for registrations of its own parameters (a wrapper).
  private let functionSymbol: SymbolID?
  /// Parameters in order: a function value passed in is `.parameter(index)`.
  private(set) var parameters: [String] = []

  init(
    extractor: SwiftFactExtractor, functionName: String, enclosingType: String? = nil, functionSymbol: SymbolID? = nil
  ) {
    self.extractor = extractor
    self.functionName = functionName
    self.enclosingType = enclosingType
    self.functionSymbol = functionSymbol
  }

  func declareParameters(_ names: [String]) {
    locals.formUnion(names)
    parameters = names
  }

  // MARK: Statements

  /// `defer` bodies of the scopes being lowered, innermost last: they run when control
  /// leaves their scope, at its end or at a return.
  private var deferred: [[CodeBlockItemSyntax]] = []

  func block(_ items: [CodeBlockItemSyntax]) -> FlowNode {
    deferred.append([])
    var nodes: [FlowNode] = []
    for element in items {
      if let statement = element.item.as(StmtSyntax.self), let deferStatement = statement.as(DeferStmtSyntax.self) {
        // Several defers in one scope run last-first.
        deferred[deferred.count - 1].insert(contentsOf: deferStatement.body.statements, at: 0)
        continue
      }
      nodes.append(item(element.item))
    }
    let own = deferred.removeLast()
    if !own.isEmpty { nodes.append(lowerDeferred([own])) }
    return .block(nodes)
  }

  /// Deferred bodies, innermost scope first, lowered outside any scope of their own.
  private func lowerDeferred(_ scopes: [[CodeBlockItemSyntax]]) -> FlowNode {
    let saved = deferred
    deferred = []
    defer { deferred = saved }
    return .block(scopes.reversed().filter { !$0.isEmpty }.map { block($0) })
  }

  /// What runs before control leaves the function: every pending `defer`.
  private func leaving() -> FlowNode {
    deferred.contains { !$0.isEmpty } ? lowerDeferred(deferred) : .block([])
  }

  private func item(_ item: CodeBlockItemSyntax.Item) -> FlowNode {
    switch item {
    case .decl(let declaration):
      if let conditional = declaration.as(IfConfigDeclSyntax.self) { return ifConfig(conditional) }
      guard let variable = declaration.as(VariableDeclSyntax.self) else { return .block([]) }
      return .block(variable.bindings.map(binding))
    case .stmt(let statement):
      return self.statement(statement)
    case .expr(let expression):
      return self.expression(expression)
    }
  }

  /// `#if … #else … #endif`: any clause may be the one compiled, so each is a path.
  private func ifConfig(_ node: IfConfigDeclSyntax) -> FlowNode {
    node.clauses.reversed().reduce(FlowNode.block([])) { otherwise, clause in
      guard case .statements(let statements) = clause.elements else { return otherwise }
      return .branch(.unknown, then: block(Array(statements)), else: otherwise)
    }
  }

  private func binding(_ binding: PatternBindingSyntax) -> FlowNode {
    guard let name = binding.pattern.as(IdentifierPatternSyntax.self)?.identifier.text else {
      return binding.initializer.map { expression($0.value) } ?? .block([])
    }
    locals.insert(name)
    var nodes: [FlowNode] = [.declare(name)]
    if let value = binding.initializer?.value {
      if let call = value.as(FunctionCallExprSyntax.self) {
        nodes.append(self.call(call, result: name))
      } else {
        nodes.append(expression(value))
      }
    }
    return .block(nodes)
  }

  private func statement(_ statement: StmtSyntax) -> FlowNode {
    if let expressionStatement = statement.as(ExpressionStmtSyntax.self) {
      return expression(expressionStatement.expression)
    }
    if let guardStatement = statement.as(GuardStmtSyntax.self) {
      let (prefix, condition) = conditions(guardStatement.conditions)
      return .block([prefix, .branch(condition, then: .block([]), else: block(Array(guardStatement.body.statements)))])
    }
    if let returnStatement = statement.as(ReturnStmtSyntax.self) {
      let value = returnStatement.expression.map { expression($0) } ?? .block([])
      // `return false` / `return 0`: what a conditional lock wrapper returns when it did not lock.
      let constant = returnStatement.expression.flatMap { integer($0) ?? Self.boolean($0) }
      return .block(
        [value, leaving()] + (constant.map { [.returnConstant($0)] } ?? [])
          + [.jump(.returnFromFunction(extractor.location(returnStatement)))])
    }
    if let throwStatement = statement.as(ThrowStmtSyntax.self) {
      return .block([
        expression(throwStatement.expression), leaving(),
        .jump(.returnFromFunction(extractor.location(throwStatement))),
      ])
    }
    if let whileStatement = statement.as(WhileStmtSyntax.self) {
      let (prefix, condition) = conditions(whileStatement.conditions)
      return .loop(
        .block([prefix, .branch(condition, then: block(Array(whileStatement.body.statements)), else: .jump(.breakOut))])
      )
    }
    if let forStatement = statement.as(ForStmtSyntax.self) {
      return .block([expression(forStatement.sequence), .loop(block(Array(forStatement.body.statements)))])
    }
    if let repeatStatement = statement.as(RepeatStmtSyntax.self) {
      return .loop(.block([block(Array(repeatStatement.body.statements)), expression(repeatStatement.condition)]))
    }
    if let doStatement = statement.as(DoStmtSyntax.self) {
      // A catch clause runs when the body throws, at any point of it: after the body, as
      // one more way on.
      let clauses = doStatement.catchClauses.map { block(Array($0.body.statements)) }
      guard !clauses.isEmpty else { return block(Array(doStatement.body.statements)) }
      let handlers = clauses.dropFirst().reduce(clauses[0]) { FlowNode.branch(.unknown, then: $0, else: $1) }
      return .block([block(Array(doStatement.body.statements)), .branch(.unknown, then: .block([]), else: handlers)])
    }
    if statement.is(BreakStmtSyntax.self) { return .jump(.breakOut) }
    if statement.is(ContinueStmtSyntax.self) { return .jump(.continueLoop) }
    return .block([])
  }

  // MARK: Expressions

  func expression(_ expression: ExprSyntax) -> FlowNode {
    let expression = extractor.text.folded(expression)
    // Only these kinds are lowered otherwise than by their subexpressions: the rest skip the
    // casts below (most expressions are names, literals and member accesses).
    switch expression.kind {
    case .functionCallExpr, .ifExpr, .switchExpr, .infixOperatorExpr, .stringLiteralExpr, .arrayExpr,
      .dictionaryExpr, .memberAccessExpr, .declReferenceExpr, .closureExpr:
      break
    default:
      return subexpressions(expression)
    }
    if let call = expression.as(FunctionCallExprSyntax.self) { return self.call(call, result: nil) }
    if let ifExpression = expression.as(IfExprSyntax.self) { return self.ifExpression(ifExpression) }
    if let switchExpression = expression.as(SwitchExprSyntax.self) { return self.switchExpression(switchExpression) }
    if let infix = expression.as(InfixOperatorExprSyntax.self) {
      if infix.operator.is(AssignmentExprSyntax.self) {
        return .block([assignment(infix.leftOperand, infix.rightOperand)] + collectionStore(infix.leftOperand))
      }
      // `counts[key, default: 0] += 1`
      if let op = infix.operator.as(BinaryOperatorExprSyntax.self)?.operator.text, op.count > 1, op.hasSuffix("="),
        !["==", "!=", "<=", ">=", "==="].contains(op)
      {
        return .block(
          [self.expression(infix.rightOperand), self.expression(infix.leftOperand)] + collectionStore(infix.leftOperand)
        )
      }
      if let op = infix.operator.as(BinaryOperatorExprSyntax.self)?.operator.text, op == "&&" || op == "||" {
        let (prefix, condition) = self.condition(infix.leftOperand)
        let right = self.expression(infix.rightOperand)
        return .block([
          prefix,
          op == "&&"
            ? .branch(condition, then: right, else: .block([])) : .branch(condition, then: .block([]), else: right),
        ])
      }
      return .block([self.expression(infix.leftOperand), self.expression(infix.rightOperand)])
    }
    if let literal = expression.as(StringLiteralExprSyntax.self) {
      let interpolated = literal.segments.compactMap { $0.as(ExpressionSegmentSyntax.self) }
      guard !interpolated.isEmpty else { return .block([]) }
      var nodes = interpolated.flatMap { $0.expressions.map { self.expression($0.expression) } }
      nodes.append(synthetic("<string interpolation>", at: literal))
      return .block(nodes)
    }
    if let array = expression.as(ArrayExprSyntax.self) {
      guard !array.elements.isEmpty else { return .block([]) }
      return .block(array.elements.map { self.expression($0.expression) } + [synthetic("<array literal>", at: array)])
    }
    if let dictionary = expression.as(DictionaryExprSyntax.self) {
      var nodes: [FlowNode] = []
      if case .elements(let elements) = dictionary.content, !elements.isEmpty {
        for element in elements {
          nodes += [self.expression(element.key), self.expression(element.value)]
        }
        nodes.append(synthetic("<dictionary literal>", at: dictionary))
      }
      return .block(nodes)
    }
    // A computed property's getter runs on every read: `stats.summary`, or `summary`
    // inside the type.
    // (Most files have none: then no name is spelled out to look up.)
    if !extractor.computedProperties.isEmpty, let member = expression.as(MemberAccessExprSyntax.self),
      let getter = extractor.computedProperties[member.declName.baseName.text]
    {
      let base = member.base.map { self.expression($0) } ?? .block([])
      return .block([base, getterCall(getter, at: member.declName)])
    }
    if !extractor.computedProperties.isEmpty, let reference = expression.as(DeclReferenceExprSyntax.self),
      enclosingType != nil, !locals.contains(reference.baseName.text),
      let getter = extractor.computedProperties[reference.baseName.text]
    {
      return getterCall(getter, at: reference)
    }
    // A closure's body runs when it is called, not here; but one that captures a local
    // allocates its context now.
    if let closure = expression.as(ClosureExprSyntax.self) {
      return capturesLocals(closure) ? synthetic("<capturing closure>", at: closure) : .block([])
    }
    return subexpressions(expression)
  }

  /// The expressions among a node's children, lowered in order.
  private func subexpressions(_ expression: ExprSyntax) -> FlowNode {
    var nodes: [FlowNode] = []
    for child in expression.children(viewMode: .sourceAccurate) {
      if let child = child.as(ExprSyntax.self) { nodes.append(self.expression(child)) }
    }
    return .block(nodes)
  }

  private func ifExpression(_ node: IfExprSyntax) -> FlowNode {
    let (prefix, condition) = conditions(node.conditions)
    let otherwise: FlowNode
    switch node.elseBody {
    case .ifExpr(let next): otherwise = ifExpression(next)
    case .codeBlock(let code): otherwise = block(Array(code.statements))
    case nil: otherwise = .block([])
    }
    return .block([prefix, .branch(condition, then: block(Array(node.body.statements)), else: otherwise)])
  }

  /// Swift cases do not fall through unless they say `fallthrough`.
  private func switchExpression(_ node: SwitchExprSyntax) -> FlowNode {
    let (prefix, variable) = operand(node.subject)
    var arms: [SwitchArm] = []
    for element in node.cases {
      guard let switchCase = element.as(SwitchCaseSyntax.self) else { continue }
      let statements = Array(switchCase.statements)
      let fallsThrough = statements.last?.item.as(StmtSyntax.self)?.is(FallThroughStmtSyntax.self) ?? false
      let body: FlowNode = .block([block(statements)] + (fallsThrough ? [] : [.jump(.breakOut)]))
      switch switchCase.label {
      case .default:
        arms.append(SwitchArm(values: [], isDefault: true, body: body))
      case .case(let label):
        let values = label.caseItems.compactMap { item -> Int? in
          item.pattern.as(ExpressionPatternSyntax.self).flatMap { integer($0.expression) }
        }
        arms.append(SwitchArm(values: values, isDefault: values.isEmpty && label.caseItems.count > 0, body: body))
      }
    }
    return .block([prefix, .switchOn(variable: variable, arms: arms)])
  }

  private func assignment(_ target: ExprSyntax, _ value: ExprSyntax) -> FlowNode {
    var nodes: [FlowNode] = []
    if let variable = target.as(DeclReferenceExprSyntax.self)?.baseName.text,
      let call = value.as(FunctionCallExprSyntax.self)
    {
      nodes.append(self.call(call, result: variable))
    } else {
      nodes.append(expression(value))
      if let variable = target.as(DeclReferenceExprSyntax.self)?.baseName.text {
        nodes.append(
          .write(MemoryWrite(target: .local, text: variable, variable: variable, location: extractor.location(target))))
      }
    }
    // `action.__sigaction_handler.sa_handler = handler`, or
    // `action.__sigaction_handler = .init(sa_handler: handler)`, installs a signal handler.
    let fields = knowledge.process.signalActionFields
    var handlers: [ExprSyntax] = []
    if let member = target.as(MemberAccessExprSyntax.self), fields.contains(member.declName.baseName.text) {
      handlers.append(value)
    } else if target.is(MemberAccessExprSyntax.self), let initializer = value.as(FunctionCallExprSyntax.self) {
      // An Array's filter: a syntax collection's makes a new tree, with offsets of its own.
      handlers += Array(initializer.arguments).filter { $0.label.map { fields.contains($0.text) } ?? false }.map(
        \.expression)
    }
    if let member = target.as(MemberAccessExprSyntax.self) {
      for reference in handlers.flatMap({ functionReferences($0, purpose: "signal handler") }) {
        extractor.registrations.append(
          HandlerRegistration(
            kind: .signalHandler, handler: reference, location: extractor.location(member.declName), via: "sigaction",
            registeringFunction: functionName, registeringSymbol: functionSymbol))
      }
    }
    return .block(nodes)
  }

  // MARK: Calls

  private func call(_ node: FunctionCallExprSyntax, result: String?) -> FlowNode {
    // `let setup: () = { … }()`: the closure runs here.
    if let closure = node.calledExpression.as(ClosureExprSyntax.self) { return block(Array(closure.statements)) }
    let arguments = node.arguments.map(\.expression)
    var nodes: [FlowNode] = []
    // The receiver is evaluated first: `Thread { … }.start()` creates the thread there.
    if let base = node.calledExpression.as(MemberAccessExprSyntax.self)?.base { nodes.append(expression(base)) }
    nodes += arguments.map { expression($0) }
    var callee = calleeName(node.calledExpression)
    let location = extractor.location(node.calledExpression)
    var lockArguments: [Int: LockReference] = [:]
    // `lock.lock()` on a Foundation lock: the receiver is the lock.
    if let member = node.calledExpression.as(MemberAccessExprSyntax.self), let receiver = member.base,
      let (type, reference) = foundationLock(receiver)
    {
      callee = "\(type).\(member.declName.baseName.text)"
      lockArguments[-1] = reference
      if extractor.callees.lockFunction(callee)?.role == .scoped {
        return scoped(
          type: type, lock: reference, body: node.trailingClosure ?? arguments.last?.as(ClosureExprSyntax.self),
          at: location)
      }
    }
    // `pthread_mutex_lock(&mutex)` and the other C lock functions, from Swift.
    if let function = extractor.callees.lockFunction(callee), function.lockArgument >= 0,
      function.lockArgument < arguments.count,
      let reference = lockReference(arguments[function.lockArgument])
    {
      lockArguments[function.lockArgument] = reference
    }
    let index = calls.count
    // A method called on a value (`process.interrupt()`) is Swift code whatever its name:
    // its symbol cannot be a C function's. A bare name may be either.
    // (A byte search: Foundation's String.contains was 4% of the lowering.)
    let onValue =
      node.calledExpression.is(MemberAccessExprSyntax.self) && !callee.utf8.contains(UInt8(ascii: "."))
    let symbol = onValue ? SymbolSpelling.swiftValueCall(callee) : SymbolSpelling.swift(callee)
    // Function values passed on: a parameter makes the caller a registration wrapper when
    // the callee is one, and what a caller passes to a wrapper is registered.
    // A registration's handler arguments (and a thread start's trailing closure) run
    // elsewhere: they become functions of their own, which Core registers.
    let elsewhere = extractor.callees.handlerArguments(of: callee)
    var functionArguments: [Int: [FunctionReference]] = [:]
    for (position, argument) in arguments.enumerated()
    where passesFunction(argument) || elsewhere.contains(where: { $0.1 == position }) {
      let purpose = elsewhere.first(where: { $0.1 == position }).map { Self.purpose($0.0) } ?? "function value"
      let references = functionReferences(argument, purpose: purpose)
      if !references.isEmpty { functionArguments[position] = references }
    }
    if let trailing = node.trailingClosure,
      let (kind, _) = elsewhere.first(where: { $0.1 == -1 || $0.1 == arguments.count })
    {
      let closure = extractor.closureFunction(trailing, purpose: Self.purpose(kind), enclosingType: enclosingType)
      functionArguments[arguments.count] = [closure]
      functionArguments[-1] = [closure]
    }
    // Integer constants and this function's parameters passed on: a callee's branches on
    // them are decided per call.
    var argumentValues: [Int: ArgumentValue] = [:]
    for (position, argument) in arguments.enumerated() {
      if let value = integer(argument) {
        argumentValues[position] = .constant(value)
      } else if let reference = argument.as(DeclReferenceExprSyntax.self),
        let index = parameters.firstIndex(of: reference.baseName.text)
      {
        argumentValues[position] = .parameter(index)
      }
    }
    calls.append(
      CallSite(
        callee: callee, symbol: symbol, location: location, lockArguments: lockArguments,
        functionArguments: functionArguments, argumentValues: argumentValues))
    if elsewhere.isEmpty {
      // A closure passed to any other call (`forEach`, `withCString`, `map`) runs during it.
      let closures = arguments.compactMap { $0.as(ClosureExprSyntax.self) } + (node.trailingClosure.map { [$0] } ?? [])
      nodes += closures.map { block(Array($0.statements)) }
    }
    nodes.append(.call(index: index, result: result))
    return .block(nodes)
  }

  /// `lock.withLock { body }`: the body runs here, between a lock and an unlock.
  private func scoped(
    type: String, lock: LockReference, body: ClosureExprSyntax?, at location: ForkGuardCore.SourceLocation
  )
    -> FlowNode
  {
    var nodes: [FlowNode] = []
    for (name, closing) in [("\(type).lock", false), ("\(type).unlock", true)] {
      if closing, let body { nodes.append(block(Array(body.statements))) }
      let index = calls.count
      calls.append(
        CallSite(callee: name, symbol: SymbolSpelling.swift(name), location: location, lockArguments: [-1: lock]))
      nodes.append(.call(index: index, result: nil))
    }
    return .block(nodes)
  }

  /// A receiver declared as a Foundation lock, and which lock it is.
  private func foundationLock(_ receiver: ExprSyntax) -> (String, LockReference)? {
    let name: String
    if let reference = receiver.as(DeclReferenceExprSyntax.self) {
      name = reference.baseName.text
    } else if let member = receiver.as(MemberAccessExprSyntax.self), isSelf(member.base) {
      name = member.declName.baseName.text
    } else {
      return nil
    }
    guard let type = extractor.lockTypes[name], let reference = lockReference(receiver) else { return nil }
    return (type, reference)
  }

  /// `self`, as written (`trimmedDescription`).
  private func isSelf(_ expression: ExprSyntax?) -> Bool {
    expression.map { extractor.text.text(of: $0) } == "self"
  }

  /// The lock a Swift expression names: a local, a property of the enclosing type (one lock
  /// class per type and name), or a global; `&x` is `x`.
  private func lockReference(_ expression: ExprSyntax) -> LockReference? {
    if let address = expression.as(InOutExprSyntax.self) { return lockReference(address.expression) }
    if let member = expression.as(MemberAccessExprSyntax.self) {
      let name = member.declName.baseName.text
      if isSelf(member.base), let type = enclosingType {
        return LockReference(kind: .field, symbol: "swift:\(type).\(name)", text: extractor.text.text(of: member))
      }
      return LockReference(kind: .field, symbol: "swift:?.\(name)", text: extractor.text.text(of: member))
    }
    guard let reference = expression.as(DeclReferenceExprSyntax.self) else { return nil }
    let name = reference.baseName.text
    if locals.contains(name) {
      return LockReference(kind: .local, symbol: "swift:\(extractor.path)#\(functionName).\(name)", text: name)
    }
    if let type = enclosingType {
      return LockReference(kind: .field, symbol: "swift:\(type).\(name)", text: name)
    }
    return LockReference(kind: .global, symbol: "swift:\(name)", text: name)
  }

  /// Whether a closure refers to a local or parameter of the enclosing body (not its own).
  private func capturesLocals(_ closure: ClosureExprSyntax) -> Bool {
    var own = Set<String>()
    if let parameters = closure.signature?.parameterClause {
      own.formUnion(parameters.tokens(viewMode: .sourceAccurate).filter { $0.tokenKind.isIdentifier }.map(\.text))
    }
    return closure.statements.tokens(viewMode: .sourceAccurate).contains { token in
      token.tokenKind.isIdentifier && locals.contains(token.text) && !own.contains(token.text)
        && token.parent?.is(DeclReferenceExprSyntax.self) == true
    }
  }

  private func getterCall(_ getter: String, at node: some SyntaxProtocol) -> FlowNode {
    let index = calls.count
    calls.append(CallSite(callee: getter, symbol: SymbolSpelling.swift(getter), location: extractor.location(node)))
    return .call(index: index, result: nil)
  }

  /// A store through a subscript of a Swift collection (`counts[key] = 1`) may grow or copy
  /// its storage. Pointers' subscripts (`buffer[i] = 0`) are plain stores.
  private func collectionStore(_ target: ExprSyntax) -> [FlowNode] {
    guard let access = target.as(SubscriptCallExprSyntax.self) else { return [] }
    let base = access.calledExpression
    let name =
      base.as(DeclReferenceExprSyntax.self)?.baseName.text
      ?? base.as(MemberAccessExprSyntax.self)?.declName.baseName.text
    guard let name, extractor.collectionNames.contains(name) else { return [] }
    return [synthetic("<collection mutation>", at: target)]
  }

  private func synthetic(_ name: String, at node: some SyntaxProtocol) -> FlowNode {
    let index = calls.count
    calls.append(CallSite(callee: name, symbol: SymbolSpelling.swift(name), location: extractor.location(node)))
    return .call(index: index, result: nil)
  }

  /// `f`, `Type.method`, `DispatchQueue.main.async`; a method on a value is its name.
  private func calleeName(_ expression: ExprSyntax) -> String {
    if let reference = expression.as(DeclReferenceExprSyntax.self) { return reference.baseName.text }
    // `UnsafeMutablePointer<Int64>(bitPattern:)` is `UnsafeMutablePointer`.
    if let generic = expression.as(GenericSpecializationExprSyntax.self) { return calleeName(generic.expression) }
    if let member = expression.as(MemberAccessExprSyntax.self) {
      let name = member.declName.baseName.text
      if let base = member.base, let baseName = typeLikeName(base) { return "\(baseName).\(name)" }
      return name
    }
    return extractor.text.text(of: expression)
  }

  /// `DispatchQueue`, `DispatchQueue.main`: a path that starts with a type name.
  private func typeLikeName(_ expression: ExprSyntax) -> String? {
    if let reference = expression.as(DeclReferenceExprSyntax.self) {
      return reference.baseName.text.first?.isUppercase == true ? reference.baseName.text : nil
    }
    if let member = expression.as(MemberAccessExprSyntax.self), let base = member.base,
      let baseName = typeLikeName(base)
    {
      return "\(baseName).\(member.declName.baseName.text)"
    }
    if let call = expression.as(FunctionCallExprSyntax.self) { return typeLikeName(call.calledExpression) }
    return nil
  }

  /// Notes the handlers and thread bodies a call registers; whether it is a registration.
  @discardableResult
  private static func purpose(_ kind: HandlerRegistration.Kind) -> String {
    switch kind {
    case .signalHandler: return "signal handler"
    case .atforkPrepare: return "atfork prepare"
    case .atforkParent: return "atfork parent"
    case .atforkChild: return "atfork child"
    case .threadStart: return "thread"
    case .cloneForkChild, .cloneVforkChild: return "clone child"
    }
  }

  /// Whether an argument may be a function value worth following: a name that is a
  /// parameter, a closure kept in a variable, or a function; or `unsafeBitCast(f, …)`.
  /// Closures written in place are lowered into the call instead.
  private func passesFunction(_ argument: ExprSyntax) -> Bool {
    if let reference = argument.as(DeclReferenceExprSyntax.self) {
      let name = reference.baseName.text
      return parameters.contains(name) || extractor.closureBindings[name] != nil
        || extractor.functionNames.contains(name)
    }
    if let call = argument.as(FunctionCallExprSyntax.self) {
      return call.calledExpression.as(DeclReferenceExprSyntax.self)?.baseName.text == "unsafeBitCast"
    }
    return false
  }

  /// The functions an expression names: a function, a closure, or `unsafeBitCast(f, …)`.
  private func functionReferences(_ expression: ExprSyntax, purpose: String) -> [FunctionReference] {
    let expression = extractor.text.folded(expression)
    if let closure = expression.as(ClosureExprSyntax.self) {
      return [extractor.closureFunction(closure, purpose: purpose, enclosingType: enclosingType)]
    }
    if let reference = expression.as(DeclReferenceExprSyntax.self) {
      let name = reference.baseName.text
      guard !["SIG_IGN", "SIG_DFL", "nil"].contains(name) else { return [] }
      if let index = parameters.firstIndex(of: name) { return [.parameter(index: index, name: name)] }
      // `let onTerm: @convention(c) (Int32) -> Void = { … }`, then `signal(SIGTERM, onTerm)`.
      if let closure = extractor.closureBindings[name] {
        return [extractor.closureFunction(closure, purpose: purpose, enclosingType: enclosingType)]
      }
      return [.function(symbol: SymbolSpelling.swift(name), name: name)]
    }
    if let cast = expression.as(AsExprSyntax.self) { return functionReferences(cast.expression, purpose: purpose) }
    if let parenthesized = expression.as(TupleExprSyntax.self), parenthesized.elements.count == 1,
      let only = parenthesized.elements.first
    {
      return functionReferences(only.expression, purpose: purpose)
    }
    if let call = expression.as(FunctionCallExprSyntax.self), let first = call.arguments.first {
      return functionReferences(first.expression, purpose: purpose)
    }
    if let optional = expression.as(OptionalChainingExprSyntax.self) {
      return functionReferences(optional.expression, purpose: purpose)
    }
    return []
  }

  // MARK: Conditions

  private func conditions(_ list: ConditionElementListSyntax) -> (FlowNode, Condition) {
    var prefixes: [FlowNode] = []
    var combined: Condition?
    for element in list {
      let part: (FlowNode, Condition)
      if case .expression(let expression) = element.condition {
        part = condition(expression)
      } else {
        part = (.block([]), .unknown)
      }
      prefixes.append(part.0)
      combined = combined.map { .and($0, part.1) } ?? part.1
    }
    return (.block(prefixes), combined ?? .unknown)
  }

  private func condition(_ expression: ExprSyntax) -> (FlowNode, Condition) {
    let expression = extractor.text.folded(expression)
    if let tuple = expression.as(TupleExprSyntax.self), tuple.elements.count == 1, let only = tuple.elements.first {
      return condition(only.expression)
    }
    if let prefix = expression.as(PrefixOperatorExprSyntax.self), prefix.operator.text == "!" {
      let (nodes, inner) = condition(prefix.expression)
      return (nodes, .not(inner))
    }
    if let infix = expression.as(InfixOperatorExprSyntax.self),
      let op = infix.operator.as(BinaryOperatorExprSyntax.self)?.operator.text
    {
      if let comparison = ComparisonOperator(rawValue: op) {
        let (leftNodes, leftVariable) = operand(infix.leftOperand)
        let (rightNodes, rightVariable) = operand(infix.rightOperand)
        let nodes = FlowNode.block([leftNodes, rightNodes])
        if let variable = leftVariable, let value = integer(infix.rightOperand) {
          return (nodes, .compare(variable: variable, comparison, value))
        }
        if let variable = rightVariable, let value = integer(infix.leftOperand) {
          return (nodes, .compare(variable: variable, comparison.flipped, value))
        }
        return (nodes, .unknown)
      }
      if op == "&&" || op == "||" {
        let (leftNodes, left) = condition(infix.leftOperand)
        let (rightNodes, right) = condition(infix.rightOperand)
        if op == "&&" {
          return (.block([leftNodes, .branch(left, then: rightNodes, else: .block([]))]), .and(left, right))
        }
        return (.block([leftNodes, .branch(left, then: .block([]), else: rightNodes)]), .or(left, right))
      }
    }
    // `if lockState()`: the call's result, named as C names it, is what is tested.
    if expression.is(FunctionCallExprSyntax.self) {
      let (nodes, variable) = operand(expression)
      return (nodes, variable.map { .truthy($0) } ?? .unknown)
    }
    return (self.expression(expression), .unknown)
  }

  /// A tested value: a variable, or a call whose result gets a made-up name.
  private func operand(_ expression: ExprSyntax) -> (FlowNode, String?) {
    if let reference = expression.as(DeclReferenceExprSyntax.self) { return (.block([]), reference.baseName.text) }
    if let call = expression.as(FunctionCallExprSyntax.self) {
      let name = "$call\(calls.count)"
      return (self.call(call, result: name), name)
    }
    if let tuple = expression.as(TupleExprSyntax.self), tuple.elements.count == 1, let only = tuple.elements.first {
      return operand(only.expression)
    }
    return (self.expression(expression), nil)
  }

  private static func boolean(_ expression: ExprSyntax) -> Int? {
    expression.as(BooleanLiteralExprSyntax.self).map { $0.literal.tokenKind == .keyword(.true) ? 1 : 0 }
  }

  private func integer(_ expression: ExprSyntax) -> Int? {
    if let literal = expression.as(IntegerLiteralExprSyntax.self) { return Int(literal.literal.text) }
    if let prefix = expression.as(PrefixOperatorExprSyntax.self), prefix.operator.text == "-",
      let literal = prefix.expression.as(IntegerLiteralExprSyntax.self), let value = Int(literal.literal.text)
    {
      return -value
    }
    return nil
  }
}

extension TokenKind {
  fileprivate var isIdentifier: Bool {
    if case .identifier = self { return true }
    return false
  }
}
