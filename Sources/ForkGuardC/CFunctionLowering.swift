import CClang
import ForkGuardCore

/// Lowers one C function body to `FlowNode`, collecting its calls and stores, and noting
/// handler registrations and function-pointer stores on the way.
final class CFunctionLowering {
  private unowned let extractor: CFactExtractor
  private let functionName: String
  private let functionSymbol: SymbolID?
  private var knowledge: Knowledge { extractor.knowledge }
  private(set) var calls: [CallSite] = []
  private(set) var writes: [MemoryWrite] = []
  /// Variables with static storage the body's tests read, by the name the flow gives them
  /// (`FunctionFacts.testedVariables`); a name that meant two of them in one body is left out.
  var testedVariables: [String: SymbolID] {
    testedVariableSymbols.compactMapValues { $0 }
  }
  private var testedVariableSymbols: [String: SymbolID?] = [:]
  /// Parameter symbols to their positions, for locks passed in.
  private var parameterIndex: [String: Int] = [:]
  /// Constant bytes written into local arrays, for the buffers passed to callees.
  private let arrays = LocalArrayBytes()
  /// Local pointers that were set to a lock (`pthread_mutex_t *m = &cfg->mu;`).
  private var lockAliases: [String: LockReference] = [:]
  /// Mutex attribute objects given an owner-checking type in this function.
  private var attributeTypes: [String: String] = [:]

  init(extractor: CFactExtractor, functionName: String, functionSymbol: SymbolID? = nil, parameters: [Cursor] = []) {
    self.extractor = extractor
    self.functionName = functionName
    self.functionSymbol = functionSymbol
    for (index, parameter) in parameters.enumerated() { parameterIndex[parameter.usr] = index }
  }

  // MARK: Statements

  func statement(_ cursor: Cursor) -> FlowNode {
    if cursor.isExpression { return expression(cursor) }
    let children = cursor.children
    switch cursor.kind {
    case CXCursor_CompoundStmt:
      return .block(children.map(statement))
    case CXCursor_IfStmt:
      let parts = children.filter { $0.kind != CXCursor_VarDecl }
      guard parts.count >= 2 else { return .block(parts.map(statement)) }
      let (prefix, condition) = self.condition(parts[0])
      let (thenNode, elseNode) = arrays.nested {
        (statement(parts[1]), parts.count > 2 ? statement(parts[2]) : .block([]))
      }
      return .block([prefix, .branch(condition, then: thenNode, else: elseNode)])
    case CXCursor_SwitchStmt:
      guard let body = children.last, let subject = children.first(where: \.isExpression) else {
        return .block([])
      }
      let (prefix, variable) = operand(subject)
      return .block([prefix, .switchOn(variable: variable, arms: arrays.nested { switchArms(body) })])
    case CXCursor_WhileStmt:
      return arrays.nestedLoop {
        guard children.count == 2 else { return .loop(.block(children.map(statement))) }
        let (prefix, condition) = self.condition(children[0])
        return .loop(.block([prefix, .branch(condition, then: statement(children[1]), else: .jump(.breakOut))]))
      }
    case CXCursor_DoStmt:
      return arrays.nestedLoop { .loop(.block(children.map(statement))) }
    case CXCursor_ForStmt:
      guard let body = children.last else { return .block([]) }
      return arrays.nestedLoop { .block(children.dropLast().map(statement) + [.loop(statement(body))]) }
    case CXCursor_ReturnStmt:
      let location =
        cursor.location(in: extractor.names) ?? SourceLocation(file: extractor.mainFile, line: 0, column: 0)
      // `return fork();` and `return pid;` say what the function returns: a fork wrapper.
      if let value = children.first(where: \.isExpression) {
        if let constant = value.strippingParenthesesAndCasts.integerValue {
          return .block([.returnConstant(constant), .jump(.returnFromFunction(location))])
        }
        let (prefix, variable) = operand(value)
        return .block([prefix] + (variable.map { [.returnValue($0)] } ?? []) + [.jump(.returnFromFunction(location))])
      }
      return .block(children.map(expression) + [.jump(.returnFromFunction(location))])
    case CXCursor_BreakStmt:
      return .jump(.breakOut)
    case CXCursor_ContinueStmt:
      return .jump(.continueLoop)
    case CXCursor_GotoStmt, CXCursor_IndirectGotoStmt:
      return .jump(.unstructured)
    case CXCursor_DeclStmt:
      return .block(children.filter { $0.kind == CXCursor_VarDecl }.map(declaration))
    case CXCursor_LabelStmt, CXCursor_CaseStmt, CXCursor_DefaultStmt:
      if cursor.kind == CXCursor_LabelStmt { arrays.label() }
      return .block(children.filter { !$0.isExpression || $0.kind != CXCursor_IntegerLiteral }.map(statement))
    default:
      return .block(children.filter { $0.isExpression || clang_isStatement($0.kind) != 0 }.map(statement))
    }
  }

  func declaration(_ variable: Cursor) -> FlowNode {
    let name = variable.spelling
    let initializer = variable.children.last(where: \.isExpression)
    // `static int flags;` and `int flags;` are tentative definitions, which libclang does not
    // call definitions; only an `extern` declaration without an initialiser is not one.
    if Self.isStaticStorageInteger(variable), variable.isDefinition || variable.storageClass != CX_SC_Extern {
      // Zero unless initialised.
      extractor.noteVariableDefinition(variable.usr, bits: initializer.map { $0.integerValue } ?? 0)
    }
    // A function's `static` (or `extern`) variable is initialised once, before the program
    // runs: the flow neither starts it afresh here nor knows its value from the initialiser;
    // what it holds is what the program ever stores into it.
    let isStaticStorage = variable.storageClass == CX_SC_Static || variable.storageClass == CX_SC_Extern
    var nodes: [FlowNode] = isStaticStorage ? [] : [.declare(name)]
    guard let initializer else { return .block(nodes) }
    arrays.initialise(variable.usr, with: initializer)
    let stripped = initializer.strippingParenthesesAndCasts
    if stripped.kind == CXCursor_CallExpr {
      nodes.append(call(stripped, result: name))
    } else if !isStaticStorage, let location = variable.location(in: extractor.names) {
      // `int in_signal_handler = !!(flags & …)`: later tests of the local read this.
      nodes.append(initialValue(of: name, at: location, type: variable.type, from: initializer))
    } else {
      nodes.append(expression(initializer))
    }
    if !variable.usr.isEmpty {
      noteStores(into: variable.usr, type: variable.type, value: initializer)
      if isLockPointer(variable.type), let lock = lockReference(initializer) {
        lockAliases[variable.usr] = lock
      }
      if isMutexType(variable.type), let type = mutexTypeInInitializer(variable),
        let location = variable.location(in: extractor.names),
        variable.semanticParent.kind == CXCursor_TranslationUnit || variable.storageClass == CX_SC_Static
      {
        let lock = LockReference(kind: .global, symbol: variable.usr, text: variable.spelling)
        extractor.addLockAttribute(LockAttribute(lock: lock, type: type, location: location))
      }
    }
    return .block(nodes)
  }

  /// A local's initialiser: what it evaluates, then what the local is known to hold. A
  /// conditional expression is a branch whose arms each give the local a value (`int line =
  /// (print_lineno && !interactive) ? line_number() : -1`, bash's error_prolog).
  private func initialValue(of name: String, at location: SourceLocation, type: CXType, from value: Cursor)
    -> FlowNode
  {
    let stripped = value.strippingParenthesesAndCasts
    let arms = stripped.kind == CXCursor_ConditionalOperator ? stripped.children.filter(\.isExpression) : []
    if arms.count == 3 {
      let (prefix, condition) = self.condition(arms[0])
      let (thenNode, elseNode) = arrays.nested {
        (
          initialValue(of: name, at: location, type: type, from: arms[1]),
          initialValue(of: name, at: location, type: type, from: arms[2])
        )
      }
      return .block([prefix, .branch(condition, then: thenNode, else: elseNode)])
    }
    if stripped.kind == CXCursor_CallExpr { return call(stripped, result: name) }
    var nodes = [expression(value)]
    if let known = localValue(value, type: type) {
      nodes.append(.write(MemoryWrite(target: .local, text: name, variable: name, location: location, value: known)))
    }
    return .block(nodes)
  }

  /// What a local of `type` holds after `value` is stored into it, as far as tests read it.
  private func localValue(_ value: Cursor, type: CXType) -> StoredValue? {
    let canonical = clang_getCanonicalType(type)
    if Self.isInteger(canonical) { return storedValue(value) }
    return canonical.kind == CXType_Pointer ? pointerValue(value.strippingParenthesesAndCasts) : nil
  }

  private func switchArms(_ body: Cursor) -> [SwitchArm] {
    var arms: [SwitchArm] = []
    var current: (values: [Int], isDefault: Bool, nodes: [FlowNode])?
    let statements = body.kind == CXCursor_CompoundStmt ? body.children : [body]
    for item in statements {
      var inner = item
      var values: [Int] = []
      var isDefault = false
      var isLabel = false
      while inner.kind == CXCursor_CaseStmt || inner.kind == CXCursor_DefaultStmt {
        isLabel = true
        let parts = inner.children
        if inner.kind == CXCursor_CaseStmt, let value = parts.first?.integerValue { values.append(value) }
        if inner.kind == CXCursor_DefaultStmt { isDefault = true }
        guard let next = parts.last, parts.count > (inner.kind == CXCursor_CaseStmt ? 1 : 0) else { break }
        inner = next
      }
      if isLabel {
        if let arm = current {
          arms.append(SwitchArm(values: arm.values, isDefault: arm.isDefault, body: .block(arm.nodes)))
        }
        let first =
          inner.kind == CXCursor_CaseStmt || inner.kind == CXCursor_DefaultStmt ? FlowNode.block([]) : statement(inner)
        current = (values, isDefault, [first])
      } else if current != nil {
        current!.nodes.append(statement(item))
      }
    }
    if let arm = current {
      arms.append(SwitchArm(values: arm.values, isDefault: arm.isDefault, body: .block(arm.nodes)))
    }
    return arms
  }

  // MARK: Expressions, in evaluation order

  func expression(_ cursor: Cursor) -> FlowNode {
    let children = cursor.children
    // An operator that cannot be read (written in a macro's body) may move or store through
    // a cursor it names: what was known of the cursor is lost.
    if cursor.kind == CXCursor_UnaryOperator || cursor.kind == CXCursor_BinaryOperator
      || cursor.kind == CXCursor_CompoundAssignOperator, arrays.isFollowingCursors, cursor.operatorSpelling == nil
    {
      arrays.unknownOperation(on: cursor)
    }
    switch cursor.kind {
    case CXCursor_CallExpr:
      return call(cursor, result: nil)
    case CXCursor_BinaryOperator:
      guard children.count == 2 else { break }
      switch cursor.operatorSpelling {
      case "=":
        return assignment(children[0], children[1])
      case "&&":
        let (prefix, condition) = self.condition(children[0])
        return .block([prefix, .branch(condition, then: arrays.nested { expression(children[1]) }, else: .block([]))])
      case "||":
        let (prefix, condition) = self.condition(children[0])
        return .block([prefix, .branch(condition, then: .block([]), else: arrays.nested { expression(children[1]) })])
      default:
        break
      }
    case CXCursor_CompoundAssignOperator:
      guard children.count == 2 else { break }
      if let symbol = staticStorageIntegerVariable(children[0]) {
        // `flags |= MASK` can add MASK's bits, `flags &= MASK` none; anything else, any.
        let constant = children[1].integerValue
        switch cursor.operatorSpelling {
        case "|=", "^=": extractor.noteVariableStore(symbol, bits: constant)
        case "&=": extractor.noteVariableStore(symbol, bits: 0)
        default: extractor.noteVariableStore(symbol, bits: nil)
        }
      }
      switch cursor.operatorSpelling {
      case "+=": arrays.step(children[0], byConstant: children[1], sign: 1)
      case "-=": arrays.step(children[0], byConstant: children[1], sign: -1)
      default: arrays.forget(children[0])
      }
      // `length -= 2`: what was known of the variable, moved.
      var adjustment: StoredValue?
      if let op = cursor.operatorSpelling, let constant = children[1].integerValue,
        Self.isInteger(clang_getCanonicalType(children[0].type))
      {
        switch op {
        case "+=",
          "-=" where constant != .min:
          adjustment = .adjusted(op == "+=" ? constant : -constant)
        // `flags |= ADDDATE`: the bits a later `flags & ADDDATE` tests stay known.
        case "|=": adjustment = .bits(or: constant, keeping: -1)
        case "&=": adjustment = .bits(or: 0, keeping: constant)
        default: break
        }
      }
      return .block([expression(children[1]), expression(children[0])] + write(to: children[0], value: adjustment))
    case CXCursor_UnaryOperator:
      if cursor.operatorSpelling == "&", let operand = children.first {
        arrays.forget(operand)
        // `waitpid(pid, &status, 0)`: whatever the flow knew of the local may change through
        // the pointer; a later test of it is not the earlier one's twin.
        let target = operand.strippingParenthesesAndCasts
        if target.kind == CXCursor_DeclRefExpr, case (.local, let name?) = classifyStorage(target),
          let location = target.location(in: extractor.names)
        {
          return .block([
            expression(operand), .write(MemoryWrite(target: .local, text: name, variable: name, location: location)),
          ])
        }
      }
      if let op = cursor.operatorSpelling, op == "++" || op == "--" || op == "&", let operand = children.first,
        let symbol = staticStorageIntegerVariable(operand)
      {
        extractor.noteVariableStore(symbol, bits: nil)
      }
      if let op = cursor.operatorSpelling, op == "++" || op == "--", let operand = children.first {
        arrays.step(operand, by: op == "++" ? 1 : -1)
        let adjustment: StoredValue? =
          Self.isInteger(clang_getCanonicalType(operand.type)) ? .adjusted(op == "++" ? 1 : -1) : nil
        return .block([expression(operand)] + write(to: operand, value: adjustment))
      }
    case CXCursor_ConditionalOperator:
      guard children.count == 3 else { break }
      let (prefix, condition) = self.condition(children[0])
      let (thenNode, elseNode) = arrays.nested { (expression(children[1]), expression(children[2])) }
      return .block([prefix, .branch(condition, then: thenNode, else: elseNode)])
    case CXCursor_StmtExpr:
      return .block(children.map(statement))
    case CXCursor_InitListExpr:
      return .block(children.filter(\.isExpression).map(expression))
    default:
      break
    }
    return .block(children.filter { $0.isExpression || $0.kind == CXCursor_CompoundStmt }.map(statement))
  }

  private func assignment(_ target: Cursor, _ value: Cursor) -> FlowNode {
    var nodes: [FlowNode] = []
    let strippedValue = value.strippingParenthesesAndCasts
    let strippedTarget = target.strippingParenthesesAndCasts
    // A place with an operator that cannot be read (`*cp++` in a macro's body, where `cp` is
    // the macro's argument) stores and moves cursors by amounts not known.
    if arrays.isFollowingCursors, Self.hasUnreadableOperator(strippedTarget) {
      arrays.unknownOperation(on: strippedTarget)
    } else {
      arrays.assign(target: strippedTarget, value: value)
    }
    nodes += placeEffects(strippedTarget)
    let arms = strippedValue.kind == CXCursor_ConditionalOperator ? strippedValue.children.filter(\.isExpression) : []
    if strippedValue.kind == CXCursor_CallExpr, let local = localVariableName(strippedTarget) {
      // `pid = fork()`: the call's result lands in `pid`, which the child analysis follows.
      nodes.append(call(strippedValue, result: local))
    } else if arms.count == 3, localVariableName(strippedTarget) != nil {
      // Each arm is a store of its own, under the test that chooses it: `pid = ls ? fork() :
      // vfork()` (inetutils' ftpd) lands each call's result in `pid`, `fmt = (cmd == WILL) ?
      // "WILL" : … : 0` (telnet's printoption) gives `fmt` each literal.
      let (prefix, condition) = self.condition(arms[0])
      let (thenNode, elseNode) = arrays.nested { (assignment(target, arms[1]), assignment(target, arms[2])) }
      nodes += [prefix, .branch(condition, then: thenNode, else: elseNode)]
    } else if strippedValue.kind == CXCursor_CallExpr, let place = resultName(strippedTarget) {
      // `cmd->pid = fork()`, `g_pid = fork()`, `*pid = fork()`: followed by the text of the
      // place; the store is recorded first so that it does not forget the result.
      nodes += write(to: target)
      nodes.append(call(strippedValue, result: place))
    } else {
      nodes.append(expression(value))
      nodes += write(to: target, value: localValue(value, type: strippedTarget.type))
    }
    if let symbol = staticStorageIntegerVariable(strippedTarget) {
      extractor.noteVariableStore(symbol, bits: value.integerValue)
    }
    if let symbol = storeSymbol(strippedTarget) {
      noteStores(into: symbol, type: strippedTarget.type, value: value)
      if strippedTarget.kind == CXCursor_DeclRefExpr, isLockPointer(strippedTarget.type) {
        lockAliases[symbol] = lockReference(value)
      }
    }
    if strippedTarget.kind == CXCursor_MemberRefExpr,
      knowledge.process.signalActionFields.contains(strippedTarget.spelling)
    {
      registerSignalAction(handler: value, at: strippedTarget.location(in: extractor.names))
    }
    return .block(nodes)
  }

  /// What evaluating the place a store lands in does besides naming it: haproxy's
  /// `signal_queue[signal_queue_len++] = sig` steps the length, `*next_slot() = v` calls.
  /// What `*cp++ = V` does to a local buffer is `LocalArrayBytes.assign`'s; here the cursor's
  /// step is only a store to it.
  private func placeEffects(_ place: Cursor) -> [FlowNode] {
    switch place.kind {
    case CXCursor_ArraySubscriptExpr, CXCursor_MemberRefExpr:
      return place.children.filter(\.isExpression).flatMap(effects)
    case CXCursor_UnaryOperator where place.operatorSpelling == "*":
      // `*P++` in a macro's body: the step is read through the `*` (see
      // `postfixOperatorOfDereferencedOperand`).
      if let step = place.postfixOperatorOfDereferencedOperand,
        let inner = place.children.first(where: \.isExpression)?.strippingParenthesesAndCasts,
        let operand = inner.children.first(where: \.isExpression)
      {
        return effects(operand) + write(to: operand, value: stepAdjustment(operand, step))
      }
      return place.children.filter(\.isExpression).flatMap(effects)
    default:
      return []
    }
  }

  private func effects(_ cursor: Cursor) -> [FlowNode] {
    let expression = cursor.strippingParenthesesAndCasts
    let children = expression.children.filter(\.isExpression)
    switch expression.kind {
    case CXCursor_CallExpr:
      return [call(expression, result: nil)]
    case CXCursor_UnaryOperator where expression.operatorSpelling == "++" || expression.operatorSpelling == "--":
      guard let operand = children.first else { return [] }
      if let symbol = staticStorageIntegerVariable(operand) { extractor.noteVariableStore(symbol, bits: nil) }
      return effects(operand) + write(to: operand, value: stepAdjustment(operand, expression.operatorSpelling ?? ""))
    case CXCursor_BinaryOperator where expression.operatorSpelling == "=", CXCursor_CompoundAssignOperator:
      return [self.expression(expression)]
    case CXCursor_UnaryOperator where expression.operatorSpelling == nil,
      CXCursor_BinaryOperator where expression.operatorSpelling == nil:
      if arrays.isFollowingCursors { arrays.unknownOperation(on: expression) }
      return children.flatMap(effects)
    default:
      return children.flatMap(effects)
    }
  }

  /// What `++` or `--` leaves in an integer it steps.
  private func stepAdjustment(_ operand: Cursor, _ step: String) -> StoredValue? {
    Self.isInteger(clang_getCanonicalType(operand.type)) ? .adjusted(step == "++" ? 1 : -1) : nil
  }

  /// Whether an operator in the expression cannot be read (see `Cursor.operatorSpelling`;
  /// `*P++` in a macro's body is read through its `*`).
  private static func hasUnreadableOperator(_ expression: Cursor) -> Bool {
    switch expression.kind {
    case CXCursor_UnaryOperator, CXCursor_BinaryOperator, CXCursor_CompoundAssignOperator:
      if expression.operatorSpelling == nil { return true }
      if expression.postfixOperatorOfDereferencedOperand != nil,
        let inner = expression.children.first(where: \.isExpression)?.strippingParenthesesAndCasts
      {
        return inner.children.contains { $0.isExpression && hasUnreadableOperator($0) }
      }
    default:
      break
    }
    return expression.children.contains { $0.isExpression && hasUnreadableOperator($0) }
  }

  private func write(to target: Cursor, value: StoredValue? = nil) -> [FlowNode] {
    guard let location = target.location(in: extractor.names) else { return [] }
    let stripped = target.strippingParenthesesAndCasts
    let text = stripped.sourceText
    let (kind, variable) = classifyStorage(stripped)
    let write = MemoryWrite(
      target: kind, text: text, variable: variable, location: location, value: kind == .local ? value : nil)
    writes.append(write)
    return [.write(write)]
  }

  /// Where a store lands: a local variable, a global, or memory behind a pointer.
  func classifyStorage(_ cursor: Cursor) -> (MemoryWrite.Target, String?) {
    switch cursor.kind {
    case CXCursor_DeclRefExpr:
      guard let declaration = cursor.referenced else { return (.indirect, nil) }
      if declaration.kind == CXCursor_ParmDecl { return (.local, declaration.spelling) }
      if declaration.kind == CXCursor_VarDecl {
        let parent = declaration.semanticParent.kind
        let isGlobal =
          parent == CXCursor_TranslationUnit || declaration.storageClass == CX_SC_Static
          || declaration.storageClass == CX_SC_Extern
        return isGlobal ? (.global, declaration.spelling) : (.local, declaration.spelling)
      }
      return (.indirect, nil)
    case CXCursor_MemberRefExpr, CXCursor_ArraySubscriptExpr:
      guard let base = cursor.children.first(where: \.isExpression)?.strippingParenthesesAndCasts else {
        return (.indirect, nil)
      }
      let baseType = clang_getCanonicalType(base.type)
      if baseType.kind == CXType_Pointer { return (.indirect, nil) }
      let (kind, _) = classifyStorage(base)
      return (kind, nil)
    default:
      return (.indirect, nil)
    }
  }

  /// The name the flow gives a place a value is kept in: a variable's name, or the text of
  /// a field, element or dereference (`cmd->pid`, `*pid`), as a store to it is written.
  private func resultName(_ cursor: Cursor) -> String? {
    switch cursor.kind {
    case CXCursor_DeclRefExpr:
      let (kind, name) = classifyStorage(cursor)
      return kind == .indirect ? nil : name
    case CXCursor_ArraySubscriptExpr:
      return elementName(cursor) ?? cursor.sourceText
    case CXCursor_MemberRefExpr:
      return cursor.sourceText
    case CXCursor_UnaryOperator where cursor.operatorSpelling == "*":
      return cursor.sourceText
    default:
      return nil
    }
  }

  /// `pointer[0]`, `pointer[LAST]`, `pointer[length - 2]` named as `FlowNames` names them, so
  /// that what a caller knows of a buffer meets the callee's tests of it.
  private func elementName(_ cursor: Cursor) -> String? {
    let parts = cursor.children.filter(\.isExpression)
    guard parts.count == 2 else { return nil }
    let base = parts[0].strippingParenthesesAndCasts
    guard base.kind == CXCursor_DeclRefExpr, base.integerValue == nil else { return nil }
    let index = parts[1].strippingParenthesesAndCasts
    if let constant = index.integerValue { return FlowNames.element(base.spelling, at: constant) }
    if index.kind == CXCursor_DeclRefExpr { return FlowNames.element(base.spelling, at: index.spelling, plus: 0) }
    guard index.kind == CXCursor_BinaryOperator, let op = index.operatorSpelling, op == "+" || op == "-" else {
      return nil
    }
    let terms = index.children.filter(\.isExpression).map(\.strippingParenthesesAndCasts)
    guard terms.count == 2, terms[0].kind == CXCursor_DeclRefExpr, terms[0].integerValue == nil,
      let offset = terms[1].integerValue
    else { return nil }
    return FlowNames.element(base.spelling, at: terms[0].spelling, plus: op == "+" ? offset : -offset)
  }

  private func localVariableName(_ cursor: Cursor) -> String? {
    guard cursor.kind == CXCursor_DeclRefExpr else { return nil }
    let (kind, name) = classifyStorage(cursor)
    return kind == .local ? name : nil
  }

  // MARK: Calls

  private func call(_ cursor: Cursor, result: String?) -> FlowNode {
    let arguments = cursor.callArguments
    var nodes = arguments.map(expression)
    let callee: String
    let symbol: SymbolID?
    if let declaration = cursor.referenced, declaration.kind == CXCursor_FunctionDecl {
      callee = declaration.spelling
      symbol = declaration.usr
    } else {
      callee = cursor.spelling.isEmpty ? "(indirect call)" : cursor.spelling
      symbol = nil
    }
    guard let location = cursor.location(in: extractor.names) else { return .block(nodes) }
    let index = calls.count
    var lockArguments: [Int: LockReference] = [:]
    let lockFunction = knowledge.lockFunction(callee)
    for (position, argument) in arguments.enumerated()
    where position == lockFunction?.lockArgument || isLockPointer(argument.strippingParenthesesAndCasts.type) {
      lockArguments[position] = lockReference(argument)
    }
    var functionArguments: [Int: [FunctionReference]] = [:]
    // Function values, and whatever is passed where a registration takes its handler (a
    // parse that lost the types still names the function).
    let handlerPositions = Set(CallRegistrations.handlerArguments(of: callee, knowledge: knowledge).map(\.1))
    for (position, argument) in arguments.enumerated()
    where Self.isFunctionValued(argument.type) || handlerPositions.contains(position) {
      let references = functionReferences(argument)
      if !references.isEmpty { functionArguments[position] = references }
    }
    var argumentValues: [Int: ArgumentValue] = [:]
    if symbol != nil {
      for (position, argument) in arguments.enumerated() {
        if let value = argumentValue(argument) { argumentValues[position] = value }
      }
      // A buffer passed with its length up to a cursor (`tmp + 2, cp - tmp - 2`): its last
      // bytes are known too, as `pointer[length-k]`.
      for (position, argument) in arguments.enumerated() {
        for (lengthPosition, length) in arguments.enumerated() where lengthPosition != position {
          guard let fromEnd = arrays.lastBytes(of: argument, before: length) else { continue }
          var start: [Int: Int] = [:]
          if case .elements(let elements)? = argumentValues[position] { start = elements }
          argumentValues[position] = .delimited(elements: start, lengthArgument: lengthPosition, fromEnd: fromEnd)
          break
        }
      }
    }
    let declaration = cursor.referenced.flatMap { $0.kind == CXCursor_FunctionDecl ? $0 : nil }
    // The objects pointer arguments are rooted at, for the callee's field locks.
    var objectArguments: [Int: String] = [:]
    if let declaration, !declaration.isInSystemHeader {
      for (position, argument) in arguments.enumerated()
      where clang_getCanonicalType(argument.type).kind == CXType_Pointer && lockArguments[position] == nil {
        if let identity = objectIdentity(argument) { objectArguments[position] = identity }
      }
    }
    calls.append(
      CallSite(
        callee: callee, symbol: symbol, location: location, lockArguments: lockArguments,
        functionArguments: functionArguments, neverReturns: declaration.map(extractor.isDeclaredNoReturn) ?? false,
        declaredBySystem: declaration?.isInSystemHeader ?? false, argumentValues: argumentValues))
    calls[calls.count - 1].objectArguments = objectArguments
    if symbol != nil {
      noteMutexType(callee: callee, arguments: arguments, at: location)
    }
    nodes.append(.call(index: index, result: result))
    return .block(nodes)
  }

  /// A constant integer or string argument, or this function's parameter passed on unchanged.
  private func argumentValue(_ argument: Cursor) -> ArgumentValue? {
    let expression = argument.strippingParenthesesAndCasts
    if expression.kind == CXCursor_DeclRefExpr, let declaration = expression.referenced,
      declaration.kind == CXCursor_ParmDecl
    {
      return parameterIndex[declaration.usr].map { .parameter($0) }
    }
    // The standard streams by name: whether the program ever gives stderr a buffer decides
    // what a write to it costs in a handler (`Knowledge.whySafeOnUnbufferedStderr`).
    if expression.kind == CXCursor_DeclRefExpr, let declaration = expression.referenced,
      declaration.kind == CXCursor_VarDecl, Self.standardStreams.contains(declaration.spelling),
      declaration.semanticParent.kind == CXCursor_TranslationUnit
    {
      return .variable(declaration.usr)
    }
    if let elements = arrays.elements(of: argument) { return .elements(elements) }
    if let text = argument.stringLiteralValue {
      return text.utf8.count <= ArgumentValue.longestString ? .string(text) : nil
    }
    // A null pointer (`SetCanvasWindow(cv, 0)`, `NULL`): the callee's `if (wi && …)` is decided.
    if clang_getCanonicalType(argument.type).kind == CXType_Pointer, expression.kind != CXCursor_CallExpr,
      expression.integerValue == 0
    {
      return .constant(0)
    }
    // Evaluating costs a little; only integer-typed expressions that are not calls can
    // be constants worth knowing.
    guard expression.kind != CXCursor_CallExpr, Self.isInteger(clang_getCanonicalType(argument.type)) else {
      return nil
    }
    if let value = expression.integerValue { return .constant(value) }
    if let range = arrays.distance(of: expression) {
      return range.lowerBound == range.upperBound
        ? .constant(range.lowerBound) : .within(low: range.lowerBound, high: range.upperBound)
    }
    if let symbol = staticStorageIntegerVariable(expression) { return .variable(symbol) }
    // `CLONE_VM | SIGCHLD | extra`: the constant bits are known to be set.
    let bits = Self.constantBits(expression)
    return bits == 0 ? nil : .bitsIncluding(bits)
  }

  private static let standardStreams: Set<String> = ["stdin", "stdout", "stderr"]

  private static func constantBits(_ cursor: Cursor) -> Int {
    let expression = cursor.strippingParenthesesAndCasts
    if let value = expression.integerValue { return value }
    guard expression.kind == CXCursor_BinaryOperator, expression.operatorSpelling == "|" else { return 0 }
    return expression.children.filter(\.isExpression).reduce(0) { $0 | constantBits($1) }
  }

  /// The symbol of the integer variable with static storage an expression names (a global,
  /// a file's or a function's `static`, an `extern` one), whose every store the program's
  /// facts collect (`FileFacts.variableBits`).
  private func staticStorageIntegerVariable(_ cursor: Cursor) -> SymbolID? {
    let expression = cursor.strippingParenthesesAndCasts
    guard expression.kind == CXCursor_DeclRefExpr, let declaration = expression.referenced,
      Self.isStaticStorageInteger(declaration)
    else { return nil }
    let usr = declaration.usr
    return usr.isEmpty ? nil : usr
  }

  private static func isStaticStorageInteger(_ declaration: Cursor) -> Bool {
    guard declaration.kind == CXCursor_VarDecl, isInteger(clang_getCanonicalType(declaration.type)) else {
      return false
    }
    let storage = declaration.storageClass
    return storage == CX_SC_Static || storage == CX_SC_Extern
      || declaration.semanticParent.kind == CXCursor_TranslationUnit
  }

  /// Names a test reads a variable with static storage by: the flow names it by spelling, and
  /// the program says what it can hold.
  private func noteTestedVariable(_ expression: Cursor) {
    guard let symbol = staticStorageIntegerVariable(expression) else { return }
    let name = expression.spelling
    if let known = testedVariableSymbols[name] {
      if known != symbol { testedVariableSymbols[name] = .some(nil) }
    } else {
      testedVariableSymbols[name] = symbol
    }
  }

  private static func isInteger(_ type: CXType) -> Bool {
    type.kind == CXType_Enum
      || (type.kind.rawValue >= CXType_Bool.rawValue && type.kind.rawValue <= CXType_Int128.rawValue)
  }

  private func registerSignalAction(handler: Cursor, at location: SourceLocation?) {
    guard let location else { return }
    for reference in functionReferences(handler) {
      extractor.addRegistration(
        HandlerRegistration(
          kind: .signalHandler, handler: reference, location: location, via: "sigaction",
          registeringFunction: functionName, registeringSymbol: functionSymbol))
    }
  }

  // MARK: Locks

  /// The lock an expression names: `&g`, `&cfg->mu`, `mu` (a parameter), `&locks[i]`.
  func lockReference(_ cursor: Cursor) -> LockReference? {
    let expression = cursor.strippingParenthesesAndCasts
    switch expression.kind {
    case CXCursor_UnaryOperator:
      guard let operand = expression.children.first(where: \.isExpression) else { return nil }
      return lockReference(operand)
    case CXCursor_ArraySubscriptExpr:
      return expression.children.first(where: \.isExpression).flatMap(lockReference)
    case CXCursor_DeclRefExpr:
      guard let declaration = expression.referenced else { return nil }
      let text = expression.spelling
      if declaration.kind == CXCursor_ParmDecl, let index = parameterIndex[declaration.usr] {
        return LockReference(kind: .parameter, symbol: String(index), text: text)
      }
      guard declaration.kind == CXCursor_VarDecl else { return nil }
      if let alias = lockAliases[declaration.usr] { return alias }
      let (storage, _) = classifyStorage(expression)
      return LockReference(kind: storage == .global ? .global : .local, symbol: declaration.usr, text: text)
    case CXCursor_MemberRefExpr:
      guard let field = expression.referenced, field.kind == CXCursor_FieldDecl else { return nil }
      let text = expression.sourceText
      let base = expression.children.first(where: \.isExpression)
      return LockReference(kind: .field, symbol: field.usr, text: text, container: base.flatMap(objectIdentity))
    default:
      return nil
    }
  }

  /// The object an expression is rooted at (`ObjectIdentity`): a global (also through `&`,
  /// `*` and indexing), this function's parameter, or the object a field points to.
  func objectIdentity(_ cursor: Cursor) -> String? {
    let expression = cursor.strippingParenthesesAndCasts
    switch expression.kind {
    case CXCursor_UnaryOperator, CXCursor_ArraySubscriptExpr:
      return expression.children.first(where: \.isExpression).flatMap(objectIdentity)
    case CXCursor_DeclRefExpr:
      guard let declaration = expression.referenced else { return nil }
      if declaration.kind == CXCursor_ParmDecl { return parameterIndex[declaration.usr].map(ObjectIdentity.parameter) }
      guard declaration.kind == CXCursor_VarDecl, classifyStorage(expression).0 == .global else { return nil }
      return ObjectIdentity.global(declaration.usr)
    case CXCursor_MemberRefExpr:
      guard let field = expression.referenced, field.kind == CXCursor_FieldDecl else { return nil }
      return ObjectIdentity.field(field.usr)
    default:
      return nil
    }
  }

  private func isLockPointer(_ type: CXType) -> Bool {
    let canonical = clang_getCanonicalType(type)
    guard canonical.kind == CXType_Pointer else { return false }
    var spelling = clang_getTypeSpelling(clang_getPointeeType(type)).consume()
    for qualifier in ["const ", "volatile "] where spelling.hasPrefix(qualifier) {
      spelling.removeFirst(qualifier.count)
    }
    return knowledge.lockTables.types.contains(spelling)
  }

  /// Whether a variable is a mutex whose initialiser may give it a type: only those are
  /// worth tokenizing.
  private func isMutexType(_ type: CXType) -> Bool {
    var spelling = clang_getTypeSpelling(type).consume()
    for qualifier in ["static ", "const ", "volatile "] where spelling.hasPrefix(qualifier) {
      spelling.removeFirst(qualifier.count)
    }
    return spelling == "pthread_mutex_t" || spelling == "mtx_t"
  }

  /// `PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP` and the like in an initialiser.
  private func mutexTypeInInitializer(_ cursor: Cursor) -> String? {
    let names = knowledge.lockTables.mutexTypes
    return cursor.tokens.lazy.compactMap { names[$0.spelling] }.first
  }

  /// `pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE)` then
  /// `pthread_mutex_init(&m, &attr)`, or `mtx_init(&m, mtx_recursive)`.
  private func noteMutexType(callee: String, arguments: [Cursor], at location: SourceLocation) {
    guard let setter = knowledge.lockTables.typeSetters[knowledge.canonicalName(callee)] else { return }
    func argument(_ index: Int?) -> Cursor? {
      guard let index, index < arguments.count else { return nil }
      return arguments[index]
    }
    var type = argument(setter.typeArgument).flatMap(mutexTypeInInitializer)
    if setter.lockArgument == nil {
      if let attribute = argument(setter.attributeArgument).flatMap(attributeSymbol), let type {
        attributeTypes[attribute] = type
      }
      return
    }
    if type == nil, let attribute = argument(setter.attributeArgument).flatMap(attributeSymbol) {
      type = attributeTypes[attribute]
    }
    if let type, let lock = argument(setter.lockArgument).flatMap(lockReference) {
      extractor.addLockAttribute(LockAttribute(lock: lock, type: type, location: location))
    }
  }

  private func attributeSymbol(_ cursor: Cursor) -> String? {
    var expression = cursor.strippingParenthesesAndCasts
    if expression.kind == CXCursor_UnaryOperator, let operand = expression.children.first(where: \.isExpression) {
      expression = operand.strippingParenthesesAndCasts
    }
    guard expression.kind == CXCursor_DeclRefExpr, let declaration = expression.referenced else { return nil }
    return declaration.usr
  }

  // MARK: Conditions

  /// Lowers a condition to the calls it makes first and what it tests.
  private func condition(_ cursor: Cursor) -> (FlowNode, Condition) {
    let expression = cursor.strippingParenthesesAndCasts
    let children = expression.children
    switch expression.kind {
    case CXCursor_BinaryOperator where children.count == 2:
      let op = expression.operatorSpelling ?? ""
      if let comparison = ComparisonOperator(rawValue: op) {
        noteComparedFunctions(children)
        // `(flags & MASK) != 0`, `(flags & MASK) == 0`
        if comparison == .equal || comparison == .notEqual {
          for (masked, zero) in [(children[0], children[1]), (children[1], children[0])] where zero.integerValue == 0 {
            let inner = masked.strippingParenthesesAndCasts
            guard inner.kind == CXCursor_BinaryOperator, inner.operatorSpelling == "&",
              let (prefix, test) = bitTest(inner.children)
            else { continue }
            return (prefix, comparison == .notEqual ? test : .not(test))
          }
        }
        let (leftPrefix, leftVariable) = operand(children[0])
        let (rightPrefix, rightVariable) = operand(children[1])
        let prefix = FlowNode.block([leftPrefix, rightPrefix])
        if let variable = leftVariable, let constant = children[1].integerValue {
          return (prefix, .compare(variable: variable, comparison, constant))
        }
        if let variable = rightVariable, let constant = children[0].integerValue {
          return (prefix, .compare(variable: variable, comparison.flipped, constant))
        }
        return (prefix, .unknown)
      }
      if op == "&", let test = bitTest(children) { return test }
      if op == "&&" || op == "||" {
        let (leftPrefix, left) = condition(children[0])
        let (rightPrefix, right) = condition(children[1])
        if op == "&&" {
          return (.block([leftPrefix, .branch(left, then: rightPrefix, else: .block([]))]), .and(left, right))
        }
        return (.block([leftPrefix, .branch(left, then: .block([]), else: rightPrefix)]), .or(left, right))
      }
    case CXCursor_UnaryOperator where expression.operatorSpelling == "!":
      if let inner = children.first {
        let (prefix, condition) = self.condition(inner)
        return (prefix, .not(condition))
      }
    default:
      break
    }
    let (prefix, variable) = operand(expression)
    return (prefix, variable.map { .truthy($0) } ?? .unknown)
  }

  /// What a test of a pointer can know of a value stored into it: a string literal is not
  /// null (1), a null pointer constant is (0); anything else, nothing.
  private func pointerValue(_ value: Cursor) -> StoredValue? {
    if value.kind == CXCursor_StringLiteral { return .constant(1) }
    return value.integerValue == 0 ? .constant(0) : nil
  }

  /// What a store puts into a local variable, when a later test can use it: a constant
  /// (through `wi = he = hi = 0` chains), or the truth of a boolean expression over
  /// variables and constants (`!!(flags & MASK)`, `len == 0`). Built without lowering
  /// anything: the stored expression is lowered once, as any expression is.
  private func storedValue(_ value: Cursor) -> StoredValue? {
    var expression = value.strippingParenthesesAndCasts
    while expression.kind == CXCursor_BinaryOperator, expression.operatorSpelling == "=",
      let right = expression.children.last(where: \.isExpression)
    {
      expression = right.strippingParenthesesAndCasts
    }
    if expression.kind == CXCursor_IntegerLiteral || expression.kind == CXCursor_DeclRefExpr
      || expression.kind == CXCursor_UnaryOperator || expression.kind == CXCursor_BinaryOperator
    {
      if let constant = expression.integerValue { return .constant(constant) }
    }
    // `i = pointer[length - 2]`, `n = len`: whatever the source is known to hold.
    if expression.kind == CXCursor_DeclRefExpr || expression.kind == CXCursor_ArraySubscriptExpr,
      let name = resultName(expression)
    {
      noteTestedVariable(expression)
      return .copy(name)
    }
    // `ty = hi + he - 1`: a sum of the function's own integer variables.
    if expression.kind == CXCursor_BinaryOperator || expression.kind == CXCursor_UnaryOperator,
      let (terms, constant) = linearSum(expression), !terms.isEmpty
    {
      return .sum(terms: terms, constant: constant)
    }
    return Self.isBooleanValued(expression) ? pureCondition(expression).map { .truth($0) } : nil
  }

  /// An expression as a sum of local integer variables times constants, plus a constant:
  /// `+`, `-`, negation and multiplication by a constant; nil for anything else.
  private func linearSum(_ cursor: Cursor, depth: Int = 0) -> (terms: [String: Int], constant: Int)? {
    let expression = cursor.strippingParenthesesAndCasts
    // Evaluated at the leaves only: clang evaluates a whole subtree each time it is asked.
    guard depth < 8 else { return nil }
    switch expression.kind {
    case CXCursor_IntegerLiteral, CXCursor_CharacterLiteral, CXCursor_UnaryExpr:
      return expression.integerValue.map { ([:], $0) }
    case CXCursor_DeclRefExpr:
      if expression.referenced?.kind == CXCursor_EnumConstantDecl { return expression.integerValue.map { ([:], $0) } }
      guard Self.isInteger(clang_getCanonicalType(expression.type)),
        case (.local, let name?) = classifyStorage(expression)
      else { return nil }
      return ([name: 1], 0)
    case CXCursor_UnaryOperator:
      guard expression.operatorSpelling == "-", let operand = expression.children.first(where: \.isExpression),
        let inner = linearSum(operand, depth: depth + 1), inner.constant != .min, !inner.terms.values.contains(.min)
      else { return nil }
      return (inner.terms.mapValues { -$0 }, -inner.constant)
    case CXCursor_BinaryOperator:
      let parts = expression.children.filter(\.isExpression)
      guard parts.count == 2, let op = expression.operatorSpelling else { return nil }
      // `1 << 3`, `MASK | FLAG`: a constant, but not a sum of ours.
      guard ["+", "-", "*"].contains(op) else { return expression.integerValue.map { ([:], $0) } }
      guard let left = linearSum(parts[0], depth: depth + 1), let right = linearSum(parts[1], depth: depth + 1)
      else { return nil }
      // Wrapping arithmetic is wrong for C's too, but only where C's own overflows; a sum
      // that overflows here is given up.
      func add(_ a: Int, _ b: Int) -> Int? {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : sum
      }
      func multiply(_ a: Int, _ b: Int) -> Int? {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : product
      }
      func scaled(_ sum: (terms: [String: Int], constant: Int), by factor: Int) -> (
        terms: [String: Int], constant: Int
      )? {
        var terms: [String: Int] = [:]
        for (name, value) in sum.terms {
          guard let product = multiply(value, factor) else { return nil }
          terms[name] = product
        }
        return multiply(sum.constant, factor).map { (terms, $0) }
      }
      switch op {
      case "+", "-":
        guard let right = scaled(right, by: op == "+" ? 1 : -1) else { return nil }
        var terms = left.terms
        for (name, factor) in right.terms {
          guard let total = add(terms[name, default: 0], factor) else { return nil }
          terms[name] = total
        }
        return add(left.constant, right.constant).map { (terms.filter { $0.value != 0 }, $0) }
      case "*" where left.terms.isEmpty:
        return scaled(right, by: left.constant)
      case "*" where right.terms.isEmpty:
        return scaled(left, by: right.constant)
      default:
        return nil
      }
    default:
      return nil
    }
  }

  private static func isBooleanValued(_ expression: Cursor) -> Bool {
    let op = expression.operatorSpelling ?? ""
    switch expression.kind {
    case CXCursor_BinaryOperator: return ComparisonOperator(rawValue: op) != nil || op == "&&" || op == "||"
    case CXCursor_UnaryOperator: return op == "!"
    default: return false
    }
  }

  /// A condition over named variables and constants only; nil for anything with a call,
  /// a field, a dereference or an operator the conditions do not model.
  private func pureCondition(_ cursor: Cursor) -> Condition? {
    let expression = cursor.strippingParenthesesAndCasts
    let children = expression.children.filter(\.isExpression)
    let op = expression.operatorSpelling ?? ""
    func variable(_ operand: Cursor) -> String? {
      let stripped = operand.strippingParenthesesAndCasts
      guard stripped.kind == CXCursor_DeclRefExpr && stripped.integerValue == nil else { return nil }
      noteTestedVariable(stripped)
      return stripped.spelling
    }
    func bitTest(_ operands: [Cursor]) -> Condition? {
      guard operands.count == 2 else { return nil }
      for (value, mask) in [(operands[0], operands[1]), (operands[1], operands[0])] {
        if let constant = mask.integerValue, let name = variable(value) {
          return .bitsSet(variable: name, mask: constant)
        }
      }
      return nil
    }
    switch expression.kind {
    case CXCursor_BinaryOperator where children.count == 2:
      if let comparison = ComparisonOperator(rawValue: op) {
        if comparison == .equal || comparison == .notEqual {
          for (masked, zero) in [(children[0], children[1]), (children[1], children[0])] where zero.integerValue == 0 {
            let inner = masked.strippingParenthesesAndCasts
            if inner.kind == CXCursor_BinaryOperator, inner.operatorSpelling == "&",
              let test = bitTest(inner.children.filter(\.isExpression))
            {
              return comparison == .notEqual ? test : .not(test)
            }
          }
        }
        if let name = variable(children[0]), let constant = children[1].integerValue {
          return .compare(variable: name, comparison, constant)
        }
        if let name = variable(children[1]), let constant = children[0].integerValue {
          return .compare(variable: name, comparison.flipped, constant)
        }
        return nil
      }
      if op == "&" { return bitTest(children) }
      if op == "&&" || op == "||", let left = pureCondition(children[0]), let right = pureCondition(children[1]) {
        return op == "&&" ? .and(left, right) : .or(left, right)
      }
      return nil
    case CXCursor_UnaryOperator where op == "!":
      return children.first.flatMap(pureCondition).map { .not($0) }
    default:
      return variable(expression).map { .truthy($0) }
    }
  }

  /// `flags & MASK` with a constant mask: a flag test.
  private func bitTest(_ operands: [Cursor]) -> (FlowNode, Condition)? {
    guard operands.count == 2 else { return nil }
    for (value, mask) in [(operands[0], operands[1]), (operands[1], operands[0])] {
      guard let constant = mask.integerValue else { continue }
      // Lowered once either way: the operand's calls are in the flow.
      let (prefix, variable) = operand(value)
      return (prefix, variable.map { .bitsSet(variable: $0, mask: constant) } ?? .unknown)
    }
    return nil
  }

  /// Lowers an operand of a test; names the variable holding its value when there is one.
  private func operand(_ cursor: Cursor) -> (FlowNode, String?) {
    let expression = cursor.strippingParenthesesAndCasts
    switch expression.kind {
    case CXCursor_DeclRefExpr:
      noteTestedVariable(expression)
      return (.block([]), resultName(expression))
    case CXCursor_MemberRefExpr, CXCursor_ArraySubscriptExpr:
      return (self.expression(cursor), resultName(expression))
    case CXCursor_UnaryOperator where expression.operatorSpelling == "*":
      return (self.expression(cursor), resultName(expression))
    case CXCursor_CallExpr:
      // `if (fork() == 0)`: the value has no name in the source; give it one.
      let name = "$call\(calls.count)"
      return (call(expression, result: name), name)
    case CXCursor_BinaryOperator where expression.operatorSpelling == "=":
      let parts = expression.children
      guard parts.count == 2 else { break }
      let target = parts[0].strippingParenthesesAndCasts
      return (assignment(parts[0], parts[1]), resultName(target))
    default:
      break
    }
    return (self.expression(cursor), nil)
  }

  // MARK: Function references

  /// The functions (or function-holding variables) an expression may evaluate to.
  func functionReferences(_ cursor: Cursor) -> [FunctionReference] {
    let expression = cursor.strippingParenthesesAndCasts
    let children = expression.children.filter(\.isExpression)
    switch expression.kind {
    case CXCursor_DeclRefExpr:
      guard let declaration = expression.referenced else { return [] }
      switch declaration.kind {
      case CXCursor_FunctionDecl:
        return [.function(symbol: declaration.usr, name: declaration.spelling)]
      case CXCursor_ParmDecl:
        if let index = parameterIndex[declaration.usr] {
          return [.parameter(index: index, name: declaration.spelling)]
        }
        return [.variable(symbol: declaration.usr, name: declaration.spelling)]
      case CXCursor_VarDecl:
        return [.variable(symbol: declaration.usr, name: declaration.spelling)]
      default:
        return []
      }
    case CXCursor_MemberRefExpr:
      guard let field = expression.referenced, field.kind == CXCursor_FieldDecl else { return [] }
      return [.variable(symbol: field.usr, name: field.spelling)]
    case CXCursor_ConditionalOperator where children.count == 3:
      return functionReferences(children[1]) + functionReferences(children[2])
    case CXCursor_ArraySubscriptExpr, CXCursor_UnaryOperator:
      return children.first.map(functionReferences) ?? []
    default:
      return []
    }
  }

  private func storeSymbol(_ target: Cursor) -> SymbolID? {
    switch target.kind {
    case CXCursor_DeclRefExpr, CXCursor_MemberRefExpr:
      guard let declaration = target.referenced else { return nil }
      let usr = declaration.usr
      return usr.isEmpty ? nil : usr
    case CXCursor_ArraySubscriptExpr:
      return target.children.first(where: \.isExpression).flatMap { storeSymbol($0.strippingParenthesesAndCasts) }
    default:
      return nil
    }
  }

  /// Records function pointers stored into `symbol` (a variable or field of function-pointer
  /// type) by `value`, following initializer lists into struct fields and array elements.
  private func noteStores(into symbol: SymbolID, type: CXType, value: Cursor) {
    let stripped = value.strippingParenthesesAndCasts
    if stripped.kind == CXCursor_InitListExpr {
      noteInitializerStores(stripped, type: type, fallback: symbol)
      return
    }
    guard Self.holdsFunctionPointers(type) else { return }
    for reference in functionReferences(value) {
      extractor.addPointerStore(PointerStore(variable: symbol, value: reference))
    }
  }

  private func noteInitializerStores(_ list: Cursor, type: CXType, fallback: SymbolID) {
    let canonical = clang_getCanonicalType(type)
    let elements = list.children
    if canonical.kind == CXType_ConstantArray || canonical.kind == CXType_IncompleteArray {
      let element = clang_getArrayElementType(canonical)
      for item in elements where item.isExpression { noteStores(into: fallback, type: element, value: item) }
      return
    }
    guard canonical.kind == CXType_Record else { return }
    let fields = Self.fields(of: canonical)
    var position = 0
    for item in elements {
      let designators = item.children.filter { $0.kind == CXCursor_MemberRef }
      if let field = designators.last?.referenced, let value = item.children.last(where: \.isExpression) {
        // `.field = value` (or `.outer.field = value`).
        noteField(field, value: value, at: designators.last?.location(in: extractor.names))
        if let index = fields.firstIndex(where: { $0.usr == field.usr }) { position = index + 1 }
        continue
      }
      guard item.isExpression, position < fields.count else { continue }
      noteField(fields[position], value: item, at: item.location(in: extractor.names))
      position += 1
    }
  }

  private func noteField(_ field: Cursor, value: Cursor, at location: SourceLocation?) {
    noteStores(into: field.usr, type: field.type, value: value)
    if knowledge.process.signalActionFields.contains(field.spelling) {
      registerSignalAction(handler: value, at: location)
    }
  }

  private static func fields(of record: CXType) -> [Cursor] {
    final class Box { var items: [Cursor] = [] }
    let box = Box()
    _ = clang_Type_visitFields(
      record,
      { field, context in
        Unmanaged<Box>.fromOpaque(context!).takeUnretainedValue().items.append(Cursor(field))
        return CXVisit_Continue
      }, Unmanaged.passUnretained(box).toOpaque())
    return box.items
  }

  /// `handler != INVALID_HANDLER`: a function compared against is a sentinel.
  private func noteComparedFunctions(_ operands: [Cursor]) {
    guard operands.contains(where: { Self.isFunctionValued($0.type) }) else { return }
    for operand in operands {
      for case .function(let symbol, _) in functionReferences(operand) { extractor.addComparedFunction(symbol) }
    }
  }

  /// A function pointer, or a function designator before it decays.
  private static func isFunctionValued(_ type: CXType) -> Bool {
    let canonical = clang_getCanonicalType(type)
    if canonical.kind == CXType_FunctionProto || canonical.kind == CXType_FunctionNoProto { return true }
    guard canonical.kind == CXType_Pointer else { return false }
    let pointee = clang_getCanonicalType(clang_getPointeeType(canonical)).kind
    return pointee == CXType_FunctionProto || pointee == CXType_FunctionNoProto
  }

  private static func holdsFunctionPointers(_ type: CXType) -> Bool {
    var canonical = clang_getCanonicalType(type)
    while canonical.kind == CXType_ConstantArray || canonical.kind == CXType_IncompleteArray {
      canonical = clang_getCanonicalType(clang_getArrayElementType(canonical))
    }
    guard canonical.kind == CXType_Pointer else { return false }
    let pointee = clang_getCanonicalType(clang_getPointeeType(canonical)).kind
    return pointee == CXType_FunctionProto || pointee == CXType_FunctionNoProto
  }
}
