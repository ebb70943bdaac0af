// swift-tools-version:6.0
import Foundation
import PackageDescription

// libFuzzer harnesses, one executable per input forkguard reads. A package of its own: it
// builds with -sanitize=fuzzer (scripts/fuzz.sh), which the tool and its tests must not.
let harnesses = [
  "configuration", "suppressions", "facts-decoder", "compilation-database", "lsp", "c-front-end",
  "swift-front-end",
]

// A path dependency's identity is its folder's name, which is whatever the clone is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let kit = Target.Dependency.product(name: "ForkGuardKit", package: root.lastPathComponent.lowercased())

let package = Package(
  name: "ForkGuardFuzz",
  dependencies: [.package(path: root.path)],
  targets: [
    .target(name: "CFuzzer"),
    .target(name: "FuzzSupport", dependencies: ["CFuzzer", kit]),
  ]
    + harnesses.map { name in
      .executableTarget(name: "fuzz-\(name)", dependencies: ["FuzzSupport", kit], path: "Sources/\(name)")
    }
)
