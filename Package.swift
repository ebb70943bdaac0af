// swift-tools-version:6.0
import PackageDescription

// Layering is enforced by target dependencies: rules never see a parser, and only
// ForkGuardC imports libclang (see ../shared/DESIGN.md).
let package = Package(
  name: "forkguard",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "forkguard", targets: ["forkguard"]),
    // The modules as a library, for the fuzz harnesses in fuzz/ (a package of their own:
    // they build with -sanitize=fuzzer, which the tool and its tests must not).
    .library(
      name: "ForkGuardKit",
      targets: [
        "ForkGuardCore", "ForkGuardC", "ForkGuardSwift", "ForkGuardRules", "ForkGuardDriver", "ForkGuardLanguageServer",
      ]),
    // `swift package forkguard`, for packages that depend on this one.
    .plugin(name: "ForkGuardPlugin", targets: ["ForkGuardCommand"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    .package(url: "https://github.com/swiftlang/swift-syntax", from: "603.0.1"),
  ],
  targets: [
    // libclang's C API. The pkg-config file is written by scripts/setup.sh from llvm-config.
    .systemLibrary(
      name: "CClang",
      pkgConfig: "forkguard-libclang",
      providers: [.apt(["libclang-dev"])]
    ),
    // The knowledge base: async-signal-safety lists, lock and process function tables.
    // rules/runtime is the preload library's (C, built by scripts/build-preload.sh).
    .target(
      name: "ForkGuardKnowledgeData",
      path: "rules",
      exclude: ["README.md", "runtime"],
      resources: [.copy("data")]
    ),
    // The rule pages, for `forkguard explain`.
    .target(
      name: "ForkGuardDocs",
      path: "docs",
      exclude: [
        "README.md", "editors-and-ci.md", "scale.md", "precision.md", "program-model.md", "reliability.md", "ci",
        "problem-matchers", "triage",
      ],
      resources: [.copy("rules")]
    ),
    .target(
      name: "ForkGuardCore",
      dependencies: ["ForkGuardKnowledgeData"]
    ),
    .target(
      name: "ForkGuardC",
      dependencies: ["CClang", "ForkGuardCore"]
    ),
    // The only module that imports SwiftSyntax/SwiftParser: Swift files to facts.
    .target(
      name: "ForkGuardSwift",
      dependencies: [
        "ForkGuardCore",
        .product(name: "SwiftSyntax", package: "swift-syntax"),
        .product(name: "SwiftParser", package: "swift-syntax"),
        .product(name: "SwiftOperators", package: "swift-syntax"),
      ]
    ),
    .target(
      name: "ForkGuardRules",
      dependencies: ["ForkGuardCore"]
    ),
    .target(
      name: "ForkGuardReporters",
      dependencies: ["ForkGuardCore"]
    ),
    // The Swift side of `forkguard run`: launch under the preload library, collect, symbolize.
    // The library itself (Sources/ForkGuardPreload) is plain C built by scripts/build-preload.sh.
    .target(
      name: "ForkGuardRuntime",
      dependencies: ["ForkGuardCore", "CForkGuardExec"]
    ),
    // Whether an exec will load the preload library: one C file that the preload library
    // also compiles in (scripts/build-preload.sh), so the launcher and every exec agree.
    .target(name: "CForkGuardExec"),
    .target(
      name: "ForkGuardDriver",
      dependencies: [
        "ForkGuardCore", "ForkGuardC", "ForkGuardSwift", "ForkGuardRules", "ForkGuardReporters",
        .product(name: "Yams", package: "Yams"),
      ]
    ),
    // `forkguard lsp`: the Language Server Protocol over stdio.
    .target(
      name: "ForkGuardLanguageServer",
      dependencies: ["ForkGuardDriver", "ForkGuardRules", "ForkGuardCore"]
    ),
    .executableTarget(
      name: "forkguard",
      dependencies: [
        "ForkGuardDriver", "ForkGuardRules", "ForkGuardReporters", "ForkGuardDocs", "ForkGuardRuntime",
        "ForkGuardLanguageServer", "ForkGuardC",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .plugin(
      name: "ForkGuardCommand",
      capability: .command(
        intent: .custom(verb: "forkguard", description: "Check the package's C and Swift code for fork-safety bugs")),
      dependencies: ["forkguard"]
    ),
    // The -verify style expectation parser and fixture verifier, shared by the fixture suites.
    .target(name: "ForkGuardTestSupport", dependencies: ["ForkGuardCore"], path: "Tests/ForkGuardTestSupport"),
    .testTarget(name: "ForkGuardCoreTests", dependencies: ["ForkGuardCore", "ForkGuardTestSupport"]),
    .testTarget(
      name: "ForkGuardDriverTests", dependencies: ["ForkGuardDriver", "ForkGuardCore", "ForkGuardTestSupport"]),
    .testTarget(name: "ForkGuardCTests", dependencies: ["ForkGuardC", "ForkGuardCore", "ForkGuardTestSupport"]),
    .testTarget(
      name: "ForkGuardSwiftTests", dependencies: ["ForkGuardSwift", "ForkGuardCore", "ForkGuardTestSupport"]),
    .testTarget(
      name: "ForkGuardRulesTests",
      dependencies: ["ForkGuardDriver", "ForkGuardRules", "ForkGuardCore", "ForkGuardTestSupport"]
    ),
    .testTarget(
      name: "ForkGuardRuntimeTests",
      dependencies: ["ForkGuardRuntime", "ForkGuardRules", "ForkGuardCore", "ForkGuardTestSupport", "CForkGuardExec"]
    ),
    .testTarget(
      name: "ForkGuardReportersTests",
      dependencies: ["ForkGuardReporters", "ForkGuardCore", "ForkGuardTestSupport"],
      exclude: ["Golden"]
    ),
    .testTarget(name: "forkguardTests", dependencies: ["forkguard", "ForkGuardTestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
