import Foundation

/// A compact binary form of `FileFacts` for the cache and for shard files: varints, and
/// each distinct string written once (file paths repeat in every location). Decoding is
/// what a warm run spends its time on, so it avoids JSON.
public enum FactsCoding {
  static let magic: [UInt8] = Array("FGF7".utf8)

  public struct Malformed: Error, CustomStringConvertible {
    public var description: String { "malformed facts" }
  }

  public static func encode(_ files: [FileFacts]) -> Data {
    var writer = FactsWriter()
    writer.bytes.append(contentsOf: magic)
    writer.uint(files.count)
    for file in files { writer.file(file) }
    return Data(writer.bytes)
  }

  /// The same facts with every repeated string sharing one storage: a front end creates a
  /// new string for each location's file, and a project's facts stay in memory until the
  /// rules have run. The facts given are gone before the copy is read back (the array
  /// literal is their last use): a big file's facts in memory are many times their encoding,
  /// and holding both was the peak of a run on one (a generated 10 MB file: 671 -> 531 MiB).
  public static func interned(_ facts: consuming FileFacts) -> FileFacts {
    let path = facts.path
    let data = encode([facts])
    if let copy = try? decode(data).first { return copy }
    // The encoder writes what the decoder reads (FactsCodingTests, the facts-decoder fuzz
    // harness); should they ever disagree, the file says so instead of vanishing.
    var unread = FileFacts(path: path)
    unread.parseProblem = ParseProblem(
      location: SourceLocation(file: path, line: 1, column: 1),
      message: "forkguard could not read back its own facts of this file (a bug: please report it)", errorCount: 1)
    return unread
  }

  public static func decode(_ data: Data) throws -> [FileFacts] {
    try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
      var reader = FactsReader(bytes: raw)
      guard raw.count >= magic.count, Array(raw.prefix(magic.count)) == magic else { throw Malformed() }
      reader.offset = magic.count
      // Every count is checked against the bytes left: a corrupt one must be refused, not
      // turned into a terabyte allocation.
      let count = try reader.uint()
      guard count >= 0, count <= raw.count - reader.offset else { throw Malformed() }
      var files: [FileFacts] = []
      files.reserveCapacity(count)
      for _ in 0..<count { files.append(try reader.file()) }
      guard reader.offset == raw.count else { throw Malformed() }
      return files
    }
  }
}

public struct FactsWriter {
  public var bytes: [UInt8] = []
  /// Rewrites every location as it is written (a run record compares an edited buffer's
  /// facts in the lines of the text it had before); nil for a location it cannot place,
  /// which sets `unplaced`.
  public var relocation: ((SourceLocation) -> SourceLocation?)?
  /// The same for the symbols that hold a place (clang's USRs of anonymous structs and of
  /// local variables hold a byte offset).
  public var symbolRelocation: ((String) -> String?)?
  public private(set) var unplaced = false
  /// Writes an integer argument that is its own call's line number, or at most ten lines
  /// more, as that distance, not as its value: `__LINE__` (openssh's `debug3(…)` passes it
  /// to `sshlog`; in an invocation over several lines it is the last one's), which moves
  /// with the call when lines are inserted above it. Only for comparing facts, never decoded.
  public var lineNumberArgumentsAsDistances = false

  public init() {}
  private var strings: [String: Int] = [:]

  public mutating func uint(_ value: Int) {
    var v = UInt64(bitPattern: Int64(value))
    while v >= 0x80 {
      bytes.append(UInt8(v & 0x7f) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(v))
  }

  public mutating func int(_ value: Int) { uint(Int(bitPattern: UInt(bitPattern: (value << 1) ^ (value >> 63)))) }
  public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

  /// 0 then the bytes for a new string; index + 1 for one already written.
  public mutating func string(_ text: String) {
    var text = text
    if let symbolRelocation {
      if let moved = symbolRelocation(text) { text = moved } else { unplaced = true }
    }
    if let index = strings[text] {
      uint(index + 1)
      return
    }
    strings[text] = strings.count
    uint(0)
    let utf8 = Array(text.utf8)
    uint(utf8.count)
    bytes.append(contentsOf: utf8)
  }

  public mutating func optionalString(_ text: String?) {
    bool(text != nil)
    if let text { string(text) }
  }

  public mutating func list<T>(_ items: [T], _ each: (inout FactsWriter, T) -> Void) {
    uint(items.count)
    for item in items { each(&self, item) }
  }

  mutating func location(_ location: SourceLocation) {
    var location = location
    if let relocation {
      if let moved = relocation(location) { location = moved } else { unplaced = true }
    }
    string(location.file)
    uint(location.line)
    uint(location.column)
  }

  mutating func lock(_ lock: LockReference) {
    string(lock.kind.rawValue)
    string(lock.symbol)
    string(lock.text)
    optionalString(lock.container)
  }

  mutating func call(_ call: CallSite) {
    string(call.callee)
    optionalString(call.symbol)
    location(call.location)
    let arguments = call.lockArguments.sorted { $0.key < $1.key }
    list(arguments) { w, pair in
      w.uint(pair.key)
      w.lock(pair.value)
    }
    list(call.functionArguments.sorted { $0.key < $1.key }) { w, pair in
      w.uint(pair.key)
      w.list(pair.value) { w, r in w.reference(r) }
    }
    bool(call.neverReturns)
    bool(call.declaredBySystem)
    list(call.argumentValues.sorted { $0.key < $1.key }) { w, pair in
      w.uint(pair.key)
      if w.lineNumberArgumentsAsDistances, case .constant(let value) = pair.value,
        value >= call.location.line, value <= call.location.line + 10
      {
        w.uint(6)
        w.uint(value - call.location.line)
      } else {
        w.argumentValue(pair.value)
      }
    }
    list(call.objectArguments.sorted { $0.key < $1.key }) { w, pair in
      w.uint(pair.key)
      w.string(pair.value)
    }
  }

  mutating func argumentValue(_ value: ArgumentValue) {
    switch value {
    case .constant(let value):
      uint(0)
      int(value)
    case .parameter(let index):
      uint(1)
      uint(index)
    case .bitsIncluding(let bits):
      uint(2)
      int(bits)
    case .variable(let symbol):
      uint(3)
      string(symbol)
    case .elements(let elements):
      uint(4)
      byteMap(elements)
    case .string(let text):
      uint(5)
      string(text)
    // 6 is a line number written as a distance (`lineNumberArgumentsAsDistances`).
    case .within(let low, let high):
      uint(7)
      int(low)
      int(high)
    case .delimited(let elements, let lengthArgument, let fromEnd):
      uint(8)
      byteMap(elements)
      uint(lengthArgument)
      byteMap(fromEnd)
    }
  }

  /// Known bytes by offset, in offset order.
  private mutating func byteMap(_ known: [Int: Int]) {
    list(known.sorted { $0.key < $1.key }) { w, pair in
      w.uint(pair.key)
      w.int(pair.value)
    }
  }

  mutating func memoryWrite(_ write: MemoryWrite) {
    string(write.target.rawValue)
    string(write.text)
    optionalString(write.variable)
    location(write.location)
    switch write.value {
    case nil: uint(0)
    case .constant(let value)?:
      uint(1)
      int(value)
    case .truth(let condition)?:
      uint(2)
      self.condition(condition)
    case .copy(let name)?:
      uint(3)
      string(name)
    case .adjusted(let delta)?:
      uint(4)
      int(delta)
    case .sum(let terms, let constant)?:
      uint(5)
      list(terms.sorted { $0.key < $1.key }) { w, pair in
        w.string(pair.key)
        w.int(pair.value)
      }
      int(constant)
    case .bits(let or, let keeping)?:
      uint(6)
      int(or)
      int(keeping)
    }
  }

  mutating func reference(_ reference: FunctionReference) {
    switch reference {
    case .function(let symbol, let name):
      uint(0)
      string(symbol)
      string(name)
    case .variable(let symbol, let name):
      uint(1)
      string(symbol)
      string(name)
    case .parameter(let index, let name):
      uint(2)
      uint(index)
      string(name)
    }
  }

  mutating func condition(_ condition: Condition) {
    switch condition {
    case .compare(let variable, let op, let value):
      uint(0)
      string(variable)
      string(op.rawValue)
      int(value)
    case .truthy(let variable):
      uint(1)
      string(variable)
    case .not(let inner):
      uint(2)
      self.condition(inner)
    case .and(let a, let b):
      uint(3)
      self.condition(a)
      self.condition(b)
    case .or(let a, let b):
      uint(4)
      self.condition(a)
      self.condition(b)
    case .unknown:
      uint(5)
    case .bitsSet(let variable, let mask):
      uint(6)
      string(variable)
      int(mask)
    }
  }

  mutating func node(_ node: FlowNode) {
    switch node {
    case .block(let nodes):
      uint(0)
      list(nodes) { w, n in w.node(n) }
    case .call(let index, let result):
      uint(1)
      uint(index)
      optionalString(result)
    case .branch(let condition, let then, let otherwise):
      uint(2)
      self.condition(condition)
      self.node(then)
      self.node(otherwise)
    case .switchOn(let variable, let arms):
      uint(3)
      optionalString(variable)
      list(arms) { w, arm in
        w.list(arm.values) { w, v in w.int(v) }
        w.bool(arm.isDefault)
        w.node(arm.body)
      }
    case .loop(let body):
      uint(4)
      self.node(body)
    case .jump(let jump):
      uint(5)
      switch jump {
      case .returnFromFunction(let location):
        uint(0)
        self.location(location)
      case .breakOut: uint(1)
      case .continueLoop: uint(2)
      case .unstructured: uint(3)
      }
    case .write(let write):
      uint(6)
      memoryWrite(write)
    case .declare(let name):
      uint(7)
      string(name)
    case .returnValue(let name):
      uint(8)
      string(name)
    case .returnConstant(let value):
      uint(9)
      int(value)
    }
  }

  mutating func function(_ function: FunctionFacts) {
    string(function.symbol)
    string(function.name)
    location(function.location)
    list(function.calls) { w, c in w.call(c) }
    list(function.nonLocalWrites) { w, m in w.memoryWrite(m) }
    node(function.body)
    location(function.bodyEnd)
    bool(function.neverReturns)
    list(function.parameters) { w, name in w.string(name) }
    list(function.testedVariables.sorted { $0.key < $1.key }) { w, pair in
      w.string(pair.key)
      w.string(pair.value)
    }
    list(function.spelledLocaleSetters) { w, name in w.string(name) }
  }

  public mutating func file(_ file: FileFacts) {
    string(file.path)
    list(file.functions) { w, f in w.function(f) }
    list(file.childRegions) { w, region in
      w.string(region.kind.rawValue)
      w.string(region.forkCallee)
      w.location(region.forkLocation)
      w.string(region.function)
      w.string(region.functionName)
      w.list(region.calls) { w, c in w.call(c) }
      w.list(region.returns) { w, l in w.location(l) }
      w.list(region.writes) { w, m in w.memoryWrite(m) }
      w.bool(region.returnsForkResult)
    }
    list(file.registrations) { w, registration in
      w.string(registration.kind.rawValue)
      w.reference(registration.handler)
      w.location(registration.location)
      w.string(registration.via)
      w.string(registration.registeringFunction)
      w.optionalString(registration.registeringSymbol)
      w.bool(registration.signal != nil)
      if let signal = registration.signal { w.argumentValue(signal) }
    }
    list(file.pointerStores) { w, store in
      w.string(store.variable)
      w.reference(store.value)
    }
    list(file.lockAttributes) { w, attribute in
      w.lock(attribute.lock)
      w.string(attribute.type)
      w.location(attribute.location)
    }
    list(file.comparedFunctions) { w, s in w.string(s) }
    list(file.variableBits.sorted { $0.key < $1.key }) { w, pair in
      w.string(pair.key)
      w.bool(pair.value != nil)
      if let bits = pair.value { w.int(bits) }
    }
    list(file.definedVariables) { w, s in w.string(s) }
    bool(file.parseProblem != nil)
    if let problem = file.parseProblem {
      location(problem.location)
      string(problem.message)
      uint(problem.errorCount)
      list(problem.missingHeaders) { w, h in w.string(h) }
    }
    list(file.dependencies) { w, d in w.string(d) }
  }
}

public struct FactsReader {
  let bytes: UnsafeRawBufferPointer
  public var offset = 0
  private var strings: [String] = []

  public init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

  public var isAtEnd: Bool { offset == bytes.count }

  mutating func byte() throws -> UInt8 {
    guard offset < bytes.count else { throw FactsCoding.Malformed() }
    defer { offset += 1 }
    return bytes[offset]
  }

  public mutating func uint() throws -> Int {
    var value: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      let b = try byte()
      value |= UInt64(b & 0x7f) << shift
      if b < 0x80 { break }
      shift += 7
      guard shift < 64 else { throw FactsCoding.Malformed() }
    }
    return Int(Int64(bitPattern: value))
  }

  public mutating func int() throws -> Int {
    let raw = UInt(bitPattern: try uint())
    return Int(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
  }

  public mutating func bool() throws -> Bool { try byte() != 0 }

  public mutating func string() throws -> String {
    let tag = try uint()
    if tag > 0 {
      guard tag - 1 < strings.count else { throw FactsCoding.Malformed() }
      return strings[tag - 1]
    }
    let length = try uint()
    guard length >= 0, length <= bytes.count - offset else { throw FactsCoding.Malformed() }
    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), as: UTF8.self)
    offset += length
    strings.append(text)
    return text
  }

  public mutating func optionalString() throws -> String? { try bool() ? try string() : nil }

  public mutating func list<T>(_ each: (inout FactsReader) throws -> T) throws -> [T] {
    let count = try uint()
    guard count >= 0, count <= bytes.count - offset else { throw FactsCoding.Malformed() }
    var items: [T] = []
    items.reserveCapacity(count)
    for _ in 0..<count { items.append(try each(&self)) }
    return items
  }

  mutating func enumValue<T: RawRepresentable>(_: T.Type) throws -> T where T.RawValue == String {
    guard let value = T(rawValue: try string()) else { throw FactsCoding.Malformed() }
    return value
  }

  mutating func location() throws -> SourceLocation {
    SourceLocation(file: try string(), line: try uint(), column: try uint())
  }

  mutating func lock() throws -> LockReference {
    LockReference(
      kind: try enumValue(LockReference.Kind.self), symbol: try string(), text: try string(),
      container: try optionalString())
  }

  mutating func call() throws -> CallSite {
    let callee = try string()
    let symbol = try optionalString()
    let location = try location()
    let pairs = try list { r in (try r.uint(), try r.lock()) }
    let functionPairs = try list { r in (try r.uint(), try r.list { try $0.reference() }) }
    var call = CallSite(
      callee: callee, symbol: symbol, location: location,
      lockArguments: Dictionary(pairs, uniquingKeysWith: { first, _ in first }),
      functionArguments: Dictionary(functionPairs, uniquingKeysWith: { first, _ in first }),
      neverReturns: try bool(), declaredBySystem: try bool(),
      argumentValues: Dictionary(
        try list { r in (try r.uint(), try r.argumentValue()) }, uniquingKeysWith: { first, _ in first }))
    call.objectArguments = Dictionary(
      try list { r in (try r.uint(), try r.string()) }, uniquingKeysWith: { first, _ in first })
    return call
  }

  mutating func argumentValue() throws -> ArgumentValue {
    switch try uint() {
    case 0: return .constant(try int())
    case 1: return .parameter(try uint())
    case 2: return .bitsIncluding(try int())
    case 3: return .variable(try string())
    case 4: return .elements(try byteMap())
    case 5: return .string(try string())
    case 7: return .within(low: try int(), high: try int())
    case 8: return .delimited(elements: try byteMap(), lengthArgument: try uint(), fromEnd: try byteMap())
    default: throw FactsCoding.Malformed()
    }
  }

  private mutating func byteMap() throws -> [Int: Int] {
    Dictionary(try list { r in (try r.uint(), try r.int()) }, uniquingKeysWith: { first, _ in first })
  }

  mutating func memoryWrite() throws -> MemoryWrite {
    var write = MemoryWrite(
      target: try enumValue(MemoryWrite.Target.self), text: try string(), variable: try optionalString(),
      location: try location())
    switch try uint() {
    case 0: break
    case 1: write.value = .constant(try int())
    case 2: write.value = .truth(try condition())
    case 3: write.value = .copy(try string())
    case 4: write.value = .adjusted(try int())
    case 5:
      let terms = Dictionary(try list { r in (try r.string(), try r.int()) }, uniquingKeysWith: { first, _ in first })
      write.value = .sum(terms: terms, constant: try int())
    case 6: write.value = .bits(or: try int(), keeping: try int())
    default: throw FactsCoding.Malformed()
    }
    return write
  }

  mutating func reference() throws -> FunctionReference {
    switch try uint() {
    case 0: return .function(symbol: try string(), name: try string())
    case 1: return .variable(symbol: try string(), name: try string())
    case 2: return .parameter(index: try uint(), name: try string())
    default: throw FactsCoding.Malformed()
    }
  }

  mutating func condition() throws -> Condition {
    switch try uint() {
    case 0: return .compare(variable: try string(), try enumValue(ComparisonOperator.self), try int())
    case 1: return .truthy(try string())
    case 2: return .not(try condition())
    case 3: return .and(try condition(), try condition())
    case 4: return .or(try condition(), try condition())
    case 5: return .unknown
    case 6: return .bitsSet(variable: try string(), mask: try int())
    default: throw FactsCoding.Malformed()
    }
  }

  mutating func node() throws -> FlowNode {
    switch try uint() {
    case 0: return .block(try list { try $0.node() })
    case 1: return .call(index: try uint(), result: try optionalString())
    case 2: return .branch(try condition(), then: try node(), else: try node())
    case 3:
      let variable = try optionalString()
      let arms = try list { r in
        SwitchArm(values: try r.list { try $0.int() }, isDefault: try r.bool(), body: try r.node())
      }
      return .switchOn(variable: variable, arms: arms)
    case 4: return .loop(try node())
    case 5:
      switch try uint() {
      case 0: return .jump(.returnFromFunction(try location()))
      case 1: return .jump(.breakOut)
      case 2: return .jump(.continueLoop)
      case 3: return .jump(.unstructured)
      default: throw FactsCoding.Malformed()
      }
    case 6: return .write(try memoryWrite())
    case 7: return .declare(try string())
    case 8: return .returnValue(try string())
    case 9: return .returnConstant(try int())
    default: throw FactsCoding.Malformed()
    }
  }

  mutating func function() throws -> FunctionFacts {
    FunctionFacts(
      symbol: try string(), name: try string(), location: try location(), calls: try list { try $0.call() },
      nonLocalWrites: try list { try $0.memoryWrite() }, body: try node(), bodyEnd: try location(),
      neverReturns: try bool(), parameters: try list { try $0.string() },
      testedVariables: Dictionary(
        try list { r -> (String, SymbolID) in (try r.string(), try r.string()) },
        uniquingKeysWith: { first, _ in first }
      ), spelledLocaleSetters: try list { try $0.string() })
  }

  public mutating func file() throws -> FileFacts {
    var file = FileFacts(path: try string())
    file.functions = try list { try $0.function() }
    file.childRegions = try list { r in
      ChildRegion(
        kind: try r.enumValue(ForkKind.self), forkCallee: try r.string(), forkLocation: try r.location(),
        function: try r.string(), functionName: try r.string(), calls: try r.list { try $0.call() },
        returns: try r.list { try $0.location() }, writes: try r.list { try $0.memoryWrite() },
        returnsForkResult: try r.bool())
    }
    file.registrations = try list { r in
      var registration = HandlerRegistration(
        kind: try r.enumValue(HandlerRegistration.Kind.self), handler: try r.reference(), location: try r.location(),
        via: try r.string(), registeringFunction: try r.string(), registeringSymbol: try r.optionalString())
      if try r.bool() { registration.signal = try r.argumentValue() }
      return registration
    }
    file.pointerStores = try list { r in PointerStore(variable: try r.string(), value: try r.reference()) }
    file.lockAttributes = try list { r in
      LockAttribute(lock: try r.lock(), type: try r.string(), location: try r.location())
    }
    file.comparedFunctions = try list { try $0.string() }
    file.variableBits = Dictionary(
      try list { r -> (SymbolID, Int?) in
        let symbol = try r.string()
        return (symbol, try r.bool() ? try r.int() : nil)
      }, uniquingKeysWith: { first, _ in first })
    file.definedVariables = try list { try $0.string() }
    if try bool() {
      file.parseProblem = ParseProblem(
        location: try location(), message: try string(), errorCount: try uint(),
        missingHeaders: try list { try $0.string() })
    }
    file.dependencies = try list { try $0.string() }
    return file
  }
}
