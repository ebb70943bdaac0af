/// A small structured control-flow form that every front end lowers function bodies to.
/// It keeps just what decides where a fork child runs: calls in evaluation order, branches
/// on the fork result, loops, jumps, and stores.
public indirect enum FlowNode: Codable, Hashable, Sendable {
  case block([FlowNode])
  /// A call, by index into the function's `calls`. `result` names the variable its value is
  /// stored into (a front end invents a name for `if (!fork())`).
  case call(index: Int, result: String?)
  case branch(Condition, then: FlowNode, else: FlowNode)
  /// `switch` with C fall-through: each arm starts at its labels and runs into the next.
  case switchOn(variable: String?, arms: [SwitchArm])
  /// A loop body that runs zero or more times.
  case loop(FlowNode)
  case jump(Jump)
  /// A store; the analysis forgets what it knew of a local variable stored to.
  case write(MemoryWrite)
  /// A local variable declared here.
  case declare(String)
  /// The function returns the value of this variable (placed before the return's jump); a
  /// front end names a returned call's value as it names a tested one.
  case returnValue(String)
  /// The function returns this constant (`return FALSE;`), placed before the return's jump:
  /// what a conditional lock wrapper returns when it did not lock.
  case returnConstant(Int)
}

public struct SwitchArm: Codable, Hashable, Sendable {
  /// The case values; empty for `default`.
  public var values: [Int]
  public var isDefault: Bool
  public var body: FlowNode
  public init(values: [Int], isDefault: Bool, body: FlowNode) {
    self.values = values
    self.isDefault = isDefault
    self.body = body
  }
}

public enum Jump: Codable, Hashable, Sendable {
  case returnFromFunction(SourceLocation)
  case breakOut
  case continueLoop
  /// Control goes elsewhere in a way the form does not follow (`goto`, `longjmp`).
  case unstructured
}

public enum ComparisonOperator: String, Codable, Hashable, Sendable {
  case equal = "=="
  case notEqual = "!="
  case less = "<"
  case lessOrEqual = "<="
  case greater = ">"
  case
    greaterOrEqual = ">="

  public var flipped: ComparisonOperator {
    switch self {
    case .equal, .notEqual: return self
    case .less: return .greater
    case .lessOrEqual: return .greaterOrEqual
    case .greater: return .less
    case .greaterOrEqual: return .lessOrEqual
    }
  }
}

public indirect enum Condition: Codable, Hashable, Sendable {
  case compare(variable: String, ComparisonOperator, Int)
  /// The variable is non-zero.
  case truthy(String)
  /// `variable & mask` is non-zero (a flag test).
  case bitsSet(variable: String, mask: Int)
  case not(Condition)
  case and(Condition, Condition)
  case or(Condition, Condition)
  case unknown
}

/// What a call does to control flow, as far as fork children care.
public enum CallEffect: Hashable, Sendable {
  case normal
  case fork(ForkKind)
  /// exec: the child's region ends here when it succeeds.
  case exec
  /// Control does not come back: the process ends (`_exit`, `abort`, `exit`), or goes on
  /// where the form does not follow (`longjmp`, `pthread_exit`, a project function that
  /// never returns).
  case exitProcess
}
