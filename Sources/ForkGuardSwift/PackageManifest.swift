import Foundation
import SwiftParser
import SwiftSyntax

/// What forkguard needs from a SwiftPM `Package.swift`, read as source (the package is not
/// built or resolved): each target's folder and its C header folders, so that C files in one
/// target find the public headers of the others as the build would.
public struct PackageManifest: Sendable {
  public struct Target: Sendable, Equatable {
    public var name: String
    public var kind: String
    public var path: String
    public var publicHeadersPath: String
    public var headerSearchPaths: [String]
  }

  public let root: String
  public let targets: [Target]

  public static let targetKinds: Set<String> = ["target", "executableTarget", "testTarget", "systemLibrary"]

  public init?(packageRoot: String) {
    let manifest = (packageRoot as NSString).appendingPathComponent("Package.swift")
    guard let data = FileManager.default.contents(atPath: manifest) else { return nil }
    root = packageRoot
    var targets: [Target] = []
    let tree = Parser.parse(source: String(decoding: data, as: UTF8.self))
    for token in tree.tokens(viewMode: .sourceAccurate) {
      guard let member = token.parent?.parent?.as(MemberAccessExprSyntax.self), member.declName.baseName == token,
        Self.targetKinds.contains(token.text), let call = member.parent?.as(FunctionCallExprSyntax.self)
      else { continue }
      func string(_ label: String) -> String? {
        call.arguments.first { $0.label?.text == label }?.expression.as(StringLiteralExprSyntax.self)?
          .representedLiteralValue
      }
      guard let name = string("name") else { continue }
      let defaultFolder = token.text == "testTarget" ? "Tests" : "Sources"
      var searchPaths: [String] = []
      if let settings = call.arguments.first(where: { $0.label?.text == "cSettings" })?.expression.as(
        ArrayExprSyntax.self)
      {
        for element in settings.elements {
          guard let setting = element.expression.as(FunctionCallExprSyntax.self),
            setting.calledExpression.as(MemberAccessExprSyntax.self)?.declName.baseName.text == "headerSearchPath",
            let value = setting.arguments.first?.expression.as(StringLiteralExprSyntax.self)?.representedLiteralValue
          else { continue }
          searchPaths.append(value)
        }
      }
      targets.append(
        Target(
          name: name, kind: token.text, path: string("path") ?? "\(defaultFolder)/\(name)",
          publicHeadersPath: string("publicHeadersPath") ?? "include", headerSearchPaths: searchPaths))
    }
    self.targets = targets
  }

  /// Every target's public header folder and header search paths that exist, absolute.
  public var includeDirectories: [String] {
    var result: [String] = []
    for target in targets {
      let folder = (root as NSString).appendingPathComponent(target.path)
      for relative in [target.publicHeadersPath] + target.headerSearchPaths {
        let path = URL(fileURLWithPath: (folder as NSString).appendingPathComponent(relative)).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
          !result.contains(path)
        {
          result.append(path)
        }
      }
    }
    return result
  }
}
