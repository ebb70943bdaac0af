/// A question about a library name (does it take a lock, start a thread…), answered once
/// per name: the knowledge resolves the name's aliases each time it is asked.
struct NameAnswers {
  private let question: (String) -> Bool
  private var answers: [String: Bool] = [:]

  init(_ question: @escaping (String) -> Bool) { self.question = question }

  mutating func callAsFunction(_ name: String) -> Bool {
    if let known = answers[name] { return known }
    let answer = question(name)
    answers[name] = answer
    return answer
  }
}
