/// An abstract interpreter over `FlowNode`: sequencing, branches, C `switch` with
/// fall-through, loops to a fixed point, and jumps. What a state is and what calls, stores
/// and tests do to it is the domain's business.
public protocol FlowDomain {
  associatedtype State: Equatable
  func merge(_ a: State, _ b: State) -> State
  /// The state after the call; nil when control does not come back (`_exit`).
  mutating func call(_ index: Int, result: String?, _ state: State) -> State?
  mutating func write(_ write: MemoryWrite, _ state: State) -> State
  mutating func declare(_ variable: String, _ state: State) -> State
  /// The state on the path where `condition` is `holds`; nil if no such path exists.
  func narrow(_ state: State, by condition: Condition, holds: Bool) -> State?
  /// Control leaves the function (a return, or the end of the body).
  mutating func leave(_ state: State, at location: SourceLocation)
  /// The function is about to return the value of `variable`.
  mutating func returnsValue(of variable: String, _ state: State)
  /// The function is about to return a constant.
  mutating func returnsConstant(_ value: Int, _ state: State)
  /// Control leaves by a jump the form does not follow (a `goto`, a `longjmp`): the path
  /// ends here as far as the interpreter goes, but it goes on somewhere.
  mutating func jumpsAway(_ state: State)
}

extension FlowDomain {
  public mutating func returnsValue(of variable: String, _ state: State) {}
  public mutating func returnsConstant(_ value: Int, _ state: State) {}
  public mutating func jumpsAway(_ state: State) {}
}

public struct FlowInterpreter<Domain: FlowDomain> {
  public var domain: Domain

  /// Where control leaves a node: falling through, or by a jump to an enclosing construct.
  struct Exits {
    var next: Domain.State?
    var breaks: Domain.State?
    var continues: Domain.State?
  }

  public init(domain: Domain) { self.domain = domain }

  /// Runs a whole function body; falling off its end counts as leaving at `bodyEnd`.
  public mutating func runFunction(_ body: FlowNode, from entry: Domain.State, bodyEnd: SourceLocation) {
    if let end = run(body, entry).next {
      domain.leave(end, at: bodyEnd)
    }
  }

  private func merge(_ a: Domain.State?, _ b: Domain.State?) -> Domain.State? {
    guard let a else { return b }
    guard let b else { return a }
    return domain.merge(a, b)
  }

  mutating func run(_ node: FlowNode, _ state: Domain.State) -> Exits {
    switch node {
    case .block(let nodes):
      var exits = Exits(next: state)
      for child in nodes {
        guard let current = exits.next else { break }
        let inner = run(child, current)
        exits.next = inner.next
        exits.breaks = merge(exits.breaks, inner.breaks)
        exits.continues = merge(exits.continues, inner.continues)
      }
      return exits

    case .call(let index, let result):
      return Exits(next: domain.call(index, result: result, state))

    case .branch(let condition, let thenNode, let elseNode):
      let thenExits = domain.narrow(state, by: condition, holds: true).map { run(thenNode, $0) } ?? Exits()
      let elseExits = domain.narrow(state, by: condition, holds: false).map { run(elseNode, $0) } ?? Exits()
      return Exits(
        next: merge(thenExits.next, elseExits.next),
        breaks: merge(thenExits.breaks, elseExits.breaks),
        continues: merge(thenExits.continues, elseExits.continues))

    case .switchOn(let variable, let arms):
      return runSwitch(variable: variable, arms: arms, state)

    case .loop(let body):
      var entry = state
      var exits = Exits()
      for _ in 0..<8 {
        exits = run(body, entry)
        let again = merge(merge(entry, exits.next), exits.continues)!
        if again == entry { break }
        entry = again
      }
      return Exits(next: merge(entry, exits.breaks))

    case .jump(let jump):
      switch jump {
      case .returnFromFunction(let location):
        domain.leave(state, at: location)
        return Exits()
      case .breakOut: return Exits(breaks: state)
      case .continueLoop: return Exits(continues: state)
      case .unstructured:
        domain.jumpsAway(state)
        return Exits()
      }

    case .write(let write):
      return Exits(next: domain.write(write, state))

    case .declare(let name):
      return Exits(next: domain.declare(name, state))

    case .returnValue(let variable):
      domain.returnsValue(of: variable, state)
      return Exits(next: state)

    case .returnConstant(let value):
      domain.returnsConstant(value, state)
      return Exits(next: state)
    }
  }

  /// Each arm is entered where its labels match (or, for `default`, where none does), and
  /// by falling through from the arm before; without `default`, unmatched values skip it.
  private mutating func runSwitch(variable: String?, arms: [SwitchArm], _ state: Domain.State) -> Exits {
    func matches(_ values: [Int]) -> Condition {
      guard let variable else { return .unknown }
      return values.map { Condition.compare(variable: variable, .equal, $0) }.reduce(nil) { partial, next in
        partial.map { .or($0, next) } ?? next
      } ?? .unknown
    }
    let labelled = arms.flatMap(\.values)
    let noLabelMatches = labelled.isEmpty ? Condition.unknown : .not(matches(labelled))
    var fallthroughState: Domain.State? = nil
    var breaks: Domain.State? = nil
    var continues: Domain.State? = nil
    for arm in arms {
      let condition = arm.isDefault ? noLabelMatches : (arm.values.isEmpty ? .unknown : matches(arm.values))
      let entry = merge(domain.narrow(state, by: condition, holds: true), fallthroughState)
      guard let entry else { continue }
      let exits = run(arm.body, entry)
      fallthroughState = exits.next
      breaks = merge(breaks, exits.breaks)
      continues = merge(continues, exits.continues)
    }
    var next = merge(fallthroughState, breaks)
    if !arms.contains(where: \.isDefault) {
      next = merge(next, domain.narrow(state, by: noLabelMatches, holds: true))
    }
    return Exits(next: next, continues: continues)
  }
}

/// Three-valued evaluation of a `Condition` for abstract values of its variables.
public enum AbstractValue: Hashable, Sendable {
  case exactly(Int)
  /// Some value greater than zero (a child's pid, an error number).
  case positive
  /// Some value in the range (a signal number a handler is called with).
  case within(ClosedRange<Int>)
  /// A value whose set bits are among these (a flags variable every store of which is known).
  case bitsWithin(Int)
  /// A pointer to a buffer whose bytes at these offsets are known: the values of `p[k]`.
  case elements([Int: Int])
  /// `elements`, and the bytes before the end the function's parameter `lengthParameter`
  /// gives: `fromEnd[k]` is the value of `p[length-k]` (`ArgumentValue.delimited`).
  case delimited(elements: [Int: Int], lengthParameter: Int, fromEnd: [Int: Int])
  /// A format string every caller passes as a literal glibc formats without a lock or an
  /// allocation (`Knowledge.isLockFreeFormat`): git's `strbuf_addf (sb, "Lock-Token: <%s>",
  /// …)` reaching `vsnprintf` through `strbuf_vaddf`'s `fmt`.
  case lockFreeFormat

  /// The numbers the value may be, when it is a number or a range of them.
  public var numbers: ClosedRange<Int>? {
    switch self {
    case .exactly(let value): return value...value
    case .within(let range): return range
    case .positive, .bitsWithin, .elements, .delimited, .lockFreeFormat: return nil
    }
  }

  /// Whether every number the value may be lies within one of `ranges` (false when it is
  /// not known as numbers): what the data's argument conditions ask of a call's argument.
  public func lies(within ranges: [ClosedRange<Int>]) -> Bool {
    guard let known = numbers else { return false }
    return ranges.contains { $0.lowerBound <= known.lowerBound && known.upperBound <= $0.upperBound }
  }

  /// What an argument holds where a call is made: a constant, a range, or what the caller's
  /// parameter holds (`parameter` reads it by index).
  public init?(argument: ArgumentValue?, parameter: (Int) -> AbstractValue?) {
    switch argument {
    case .constant(let value)?: self = .exactly(value)
    case .within(let low, let high)?: self = .within(low...high)
    case .parameter(let index)?:
      guard let value = parameter(index) else { return nil }
      self = value
    default: return nil
    }
  }

  /// The value after `delta` is added (`length -= 2`); nil when nothing is known of it then.
  public func shifted(by delta: Int) -> AbstractValue? {
    switch self {
    case .exactly(let value):
      let (sum, overflow) = value.addingReportingOverflow(delta)
      return overflow ? nil : .exactly(sum)
    case .within(let range):
      let (low, lowOverflow) = range.lowerBound.addingReportingOverflow(delta)
      let (high, highOverflow) = range.upperBound.addingReportingOverflow(delta)
      return lowOverflow || highOverflow ? nil : .within(low...high)
    case .positive:
      return AbstractValue.within(1...Int.max).shifted(by: delta)
    case .bitsWithin, .elements, .delimited, .lockFreeFormat:
      return nil
    }
  }

  /// true/false when decided for this value of `variable`, nil when not.
  public func evaluate(_ condition: Condition, variable: String) -> Bool? {
    Self.evaluate(condition) { $0 == variable ? self : nil }
  }

  /// true/false when the values known for the condition's variables decide it.
  public static func evaluate(_ condition: Condition, values: (String) -> AbstractValue?) -> Bool? {
    switch condition {
    case .compare(let name, let op, let constant):
      return values(name)?.compare(op, constant)
    case .truthy(let name):
      return values(name)?.compare(.notEqual, 0)
    case .bitsSet(let name, let mask):
      switch values(name) {
      case .exactly(let value)?: return value & mask != 0
      case .bitsWithin(let possible)?: return possible & mask == 0 ? false : nil
      default: return nil
      }
    case .not(let inner):
      return evaluate(inner, values: values).map { !$0 }
    case .and(let a, let b):
      let x = evaluate(a, values: values)
      let y = evaluate(b, values: values)
      if x == false || y == false { return false }
      if x == true && y == true { return true }
      return nil
    case .or(let a, let b):
      let x = evaluate(a, values: values)
      let y = evaluate(b, values: values)
      if x == true || y == true { return true }
      if x == false && y == false { return false }
      return nil
    case .unknown:
      return nil
    }
  }

  private func compare(_ op: ComparisonOperator, _ constant: Int) -> Bool? {
    switch self {
    case .exactly(let value):
      return Self.apply(op, value, constant)
    case .positive:
      return AbstractValue.within(1...Int.max).compare(op, constant)
    case .elements, .delimited, .lockFreeFormat:
      // The pointer itself: not null, nothing else known.
      return op == .notEqual && constant == 0 ? true : (op == .equal && constant == 0 ? false : nil)
    case .bitsWithin(let possible):
      guard possible >= 0 else { return nil }
      // A constant with a bit the variable never has is never equal to it; and the value
      // is at most `possible`.
      if op == .equal || op == .notEqual, constant & ~possible != 0 { return op == .notEqual }
      return AbstractValue.within(0...possible).compare(op, constant)
    case .within(let range):
      // Decided only when every value in the range agrees: the ends decide an ordering,
      // and equality is decided when the constant is outside or the range is one value.
      switch op {
      case .equal, .notEqual:
        let equal: Bool? = !range.contains(constant) ? false : (range.lowerBound == range.upperBound ? true : nil)
        return op == .equal ? equal : equal.map { !$0 }
      default:
        let (low, high) = (Self.apply(op, range.lowerBound, constant), Self.apply(op, range.upperBound, constant))
        return low == high ? low : nil
      }
    }
  }

  private static func apply(_ op: ComparisonOperator, _ a: Int, _ b: Int) -> Bool {
    switch op {
    case .equal: return a == b
    case .notEqual: return a != b
    case .less: return a < b
    case .lessOrEqual: return a <= b
    case .greater: return a > b
    case .greaterOrEqual: return a >= b
    }
  }

  /// Whether a path on which this value holds survives a test that is `holds`.
  public func survives(_ condition: Condition, variable: String, holds: Bool) -> Bool {
    let verdict = evaluate(condition, variable: variable)
    return verdict == nil || verdict == holds
  }
}
