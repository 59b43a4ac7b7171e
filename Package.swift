// swift-tools-version: 6.0
//
// girfec: an agent-based Monte Carlo microsimulation of children moving
// between GIRFEC levels of support, with GSL random numbers.
//
// Benchmarks are the `girfec bench` command (docs/performance.md), so no
// benchmark dependency reaches users of the library or the command.

import PackageDescription

let package = Package(
    name: "girfec",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "girfec", targets: ["girfec"]),
        .library(name: "GirfecKit", targets: ["Experiments", "Reports"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // MARK: - Implementation details

        /// GSL and Random123's Philox, through a small C shim (see shim.h).
        .systemLibrary(
            name: "CGSL",
            pkgConfig: "gsl",
            providers: [.apt(["libgsl-dev", "librandom123-dev"])]
        ),

        // MARK: - Modules, in the order data flows through them

        /// Addressed random streams (master seed, replication, purpose) over GSL.
        .target(name: "Stochastics", dependencies: ["CGSL"]),
        /// Scenario values, YAML decoding, validation, transition conversion.
        .target(name: "Model", dependencies: ["Stochastics", "CGSL", .product(name: "Yams", package: "Yams")]),
        /// The agent engine: one replication of one arm.
        ///
        /// Release builds drop overflow and precondition checks in this module
        /// only (-Ounchecked): +15–20 % child-steps per second, measured with
        /// `girfec bench` (docs/performance.md). Its inputs are validated before
        /// any work, and debug builds, which the tests use, keep every check.
        .target(
            name: "Microsimulation", dependencies: ["Model", "Stochastics"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        /// The aggregate stock-flow model: cohort and system-dynamics modes.
        .target(name: "StockFlow", dependencies: ["Model"]),
        /// Streaming, mergeable statistics: exact sums and bounded histograms.
        .target(name: "Analysis", dependencies: ["Stochastics", "CGSL"]),
        /// Replications in parallel, shards, common random numbers, progress.
        .target(name: "Experiments", dependencies: ["Model", "Microsimulation", "Analysis", "Stochastics"]),
        /// Estimating transition dynamics from local data: flows, panel records, stock counts.
        .target(name: "Calibration", dependencies: ["Model", "StockFlow", "Analysis", "Stochastics", "CGSL"]),
        /// CSV and JSON writers, the manifest, atomic output folders.
        .target(
            name: "Reports", dependencies: ["Experiments", "Analysis", "Model", "StockFlow", "Stochastics", "CGSL"],
            plugins: ["BuildInfoPlugin"]
        ),
        /// Writes the source commit into Reports when girfec is built (manifest `gitCommit`).
        .plugin(name: "BuildInfoPlugin", capability: .buildTool(), path: "Sources/BuildInfoPlugin"),
        /// The command-line tool.
        .executableTarget(
            name: "girfec",
            dependencies: [
                "Experiments", "Reports", "Model", "Stochastics", "StockFlow", "Calibration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Unit test bundles

        .target(name: "TestSupport", dependencies: ["Model", "Experiments"], path: "Tests/TestSupport"),
        .testTarget(name: "StochasticsTests", dependencies: ["Stochastics"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "TestSupport"]),
        .testTarget(name: "MicrosimulationTests", dependencies: ["Microsimulation", "TestSupport"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Stochastics", "CGSL"]),
        .testTarget(name: "StockFlowTests", dependencies: ["StockFlow", "Microsimulation", "Experiments", "Reports", "TestSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Reports", "TestSupport"]),
        .testTarget(name: "CalibrationTests", dependencies: ["Calibration", "Model", "StockFlow", "Stochastics", "CGSL", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["girfec", "Reports", "TestSupport"]),
    ]
)
