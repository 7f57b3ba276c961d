// swift-tools-version:6.1
// aigc — a local-first engine and service for AI-generated content. Layers (top may import below):
// aigc CLI -> AIGCGeneration/AIGCImaging -> AIGCModels -> AIGCLayers/AIGCSampling/AIGCTokenizers -> AIGCFormats
// -> AIGCTensor -> AIGCKernels -> CKernels/COpenBLAS; beside Generation, AIGCStore (SQLite via GRDB,
// PostgreSQL via postgres-nio), used by the CLI. See shared/DESIGN.md and scripts/check-layers.
import PackageDescription

// Kernel targets are always optimised, also in debug builds, so tests run real models quickly.
// Haswell (AVX2, FMA, F16C) is the baseline of the machines aigc targets; AVX-512 is detected at run time.
let fastSwift: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"])]
let fastC: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno"])]

let package = Package(
    name: "aigc",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "aigc", targets: ["aigc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .target(name: "CKernels", cSettings: fastC, linkerSettings: [.linkedLibrary("pthread")]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "AIGCKernels", dependencies: ["CKernels", "COpenBLAS"], swiftSettings: fastSwift),
        .target(name: "AIGCTensor", dependencies: ["AIGCKernels", "CKernels"]),
        .target(name: "AIGCFormats", dependencies: ["AIGCTensor", "CKernels", "CZlib"]),
        .target(name: "AIGCTokenizers", dependencies: ["CZlib"], resources: [.copy("Resources/clip")]),
        .target(name: "AIGCLayers", dependencies: ["AIGCTensor", "AIGCKernels", "CKernels"], swiftSettings: fastSwift),
        .target(name: "AIGCSampling", swiftSettings: fastSwift),
        .target(name: "AIGCModels", dependencies: ["AIGCLayers", "AIGCTensor"]),
        .target(name: "AIGCGeneration", dependencies: [
            "AIGCModels", "AIGCLayers", "AIGCFormats", "AIGCTokenizers", "AIGCSampling", "AIGCTensor", "AIGCKernels", "CZlib",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "AIGCImaging", dependencies: [
            "AIGCModels", "AIGCLayers", "AIGCFormats", "AIGCSampling", "AIGCTensor", "AIGCKernels", "AIGCTokenizers",
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md"]),
        .target(name: "AIGCStore", dependencies: [
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md"]),
        .target(name: "AIGCServer", dependencies: [
            "AIGCGeneration", "AIGCImaging", "AIGCStore", "AIGCFormats", "AIGCTokenizers", "AIGCSampling", "AIGCModels",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], resources: [.copy("Resources/web")]),
        .executableTarget(name: "aigc", dependencies: [
            "AIGCServer",
            "AIGCGeneration", "AIGCImaging", "AIGCStore", "AIGCFormats", "AIGCTokenizers", "AIGCTensor", "AIGCKernels",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "AIGCTestSupport", dependencies: ["AIGCFormats", "AIGCTensor"], path: "Tests/AIGCTestSupport"),
        .testTarget(name: "AIGCKernelsTests", dependencies: ["AIGCKernels", "CKernels", "AIGCTestSupport"]),
        .testTarget(name: "AIGCLayersTests", dependencies: ["AIGCLayers", "AIGCKernels", "AIGCTensor", "AIGCTestSupport", "CKernels"]),
        .testTarget(name: "AIGCFormatsTests", dependencies: ["AIGCFormats", "AIGCTensor", "AIGCTestSupport", "AIGCGeneration", "AIGCModels", "AIGCTokenizers"]),
        .testTarget(name: "AIGCTokenizersTests", dependencies: ["AIGCTokenizers", "AIGCGeneration", "AIGCFormats", "AIGCTestSupport"]),
        .testTarget(name: "AIGCSamplingTests", dependencies: ["AIGCSampling"]),
        .testTarget(name: "AIGCModelsTests", dependencies: ["AIGCModels", "AIGCGeneration", "AIGCFormats", "AIGCTestSupport"]),
        .testTarget(name: "AIGCGenerationTests", dependencies: ["AIGCGeneration", "AIGCModels", "AIGCFormats", "AIGCKernels", "CKernels", "AIGCTestSupport"]),
        .testTarget(name: "AIGCImagingTests", dependencies: ["AIGCImaging", "AIGCModels", "AIGCLayers", "AIGCFormats", "AIGCTensor", "AIGCTestSupport"]),
        .testTarget(name: "AIGCStoreTests", dependencies: [
            "AIGCStore", "AIGCTestSupport",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        // A separate program the crash test starts and kills with SIGKILL while it records usage.
        .executableTarget(name: "AIGCStoreCrashWriter", dependencies: ["AIGCStore"], path: "Tests/AIGCStoreCrashWriter"),
        .testTarget(name: "EndToEndTests", dependencies: [
            "AIGCTestSupport", "AIGCImaging", "AIGCFormats", "AIGCStore", .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        .testTarget(name: "AIGCServerTests", dependencies: [
            "AIGCServer", "AIGCGeneration", "AIGCImaging", "AIGCFormats", "AIGCStore", "AIGCTestSupport", .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "NIOCore", package: "swift-nio"),
        ]),
    ]
)
