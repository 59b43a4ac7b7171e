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
    // Every target lists exactly the modules its files import (checked by
    // scripts/check-imports.py in scripts/lint.sh; docs/testing.md).
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
        /// Built with the same settings as every module (no unsafe flags, so
        /// `GirfecKit` stays usable as a versioned dependency). Its hot loop
        /// gets its speed from raw pointers to tables and columns whose bounds
        /// hold by construction, and wrapping arithmetic only where no overflow
        /// is possible (StepKernel.swift; measured in docs/performance.md).
        .target(name: "Microsimulation", dependencies: ["Model", "Stochastics", "CGSL"]),
        /// The aggregate stock-flow model: cohort and system-dynamics modes.
        .target(name: "StockFlow", dependencies: ["Model"]),
        /// Writing the aggregate model for other tools: XMILE 1.0 (docs/xmile.md).
        .target(name: "Interchange", dependencies: ["Model", "StockFlow"]),
        /// Streaming, mergeable statistics: exact sums and bounded histograms.
        .target(name: "Analysis", dependencies: ["Stochastics", "CGSL"]),
        /// Replications in parallel, shards, common random numbers, progress.
        .target(name: "Experiments", dependencies: ["Model", "Microsimulation", "Analysis", "Stochastics"]),
        /// Estimating transition dynamics from local data: flows, panel records, stock counts.
        .target(name: "Calibration", dependencies: ["Model", "StockFlow", "Analysis", "Stochastics", "CGSL"]),
        /// CSV and JSON writers, the manifest, atomic output folders.
        .target(
            name: "Reports", dependencies: ["Experiments", "Microsimulation", "Analysis", "Model", "StockFlow", "CGSL"],
            plugins: ["BuildInfoPlugin"]
        ),
        /// `girfec serve`: the workshop explorer, a small HTTP server on POSIX sockets and its page.
        .target(name: "Explorer", dependencies: ["Experiments", "Reports", "Model", "StockFlow", "Analysis"]),
        /// Writes the source commit into Reports when girfec is built (manifest `gitCommit`).
        .plugin(name: "BuildInfoPlugin", capability: .buildTool(), path: "Sources/BuildInfoPlugin"),
        /// The command-line tool.
        .executableTarget(
            name: "girfec",
            dependencies: [
                "Experiments", "Reports", "Model", "Microsimulation", "Analysis", "Stochastics", "StockFlow", "Calibration", "Interchange", "CGSL", "Explorer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Unit test bundles

        .target(name: "TestSupport", dependencies: ["Model"], path: "Tests/TestSupport"),
        .testTarget(name: "StochasticsTests", dependencies: ["Stochastics", "CGSL"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Stochastics", "CGSL", "TestSupport"]),
        .testTarget(name: "MicrosimulationTests", dependencies: ["Microsimulation", "Model", "Stochastics", "TestSupport"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Stochastics", "CGSL"]),
        .testTarget(name: "StockFlowTests", dependencies: ["StockFlow", "Interchange", "Model", "Analysis", "Microsimulation", "Experiments", "Reports", "TestSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Analysis", "Microsimulation", "Model", "Reports", "Stochastics", "TestSupport"]),
        .testTarget(name: "CalibrationTests", dependencies: ["Calibration", "Model", "StockFlow", "Stochastics", "CGSL", "TestSupport"]),
        .testTarget(name: "ExplorerTests", dependencies: ["Explorer", "Experiments", "Model", "Reports", "StockFlow", "TestSupport"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["girfec", "Calibration", "Experiments", "Model", "Reports", "TestSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        /// Golden output folders: every file of `girfec run` and `girfec report` for small
        /// scenarios, byte for byte (docs/testing.md). `girfec` is a dependency so that the
        /// command the test launches is built first.
        .testTarget(
            name: "ReportsTests",
            dependencies: ["girfec", "Reports", "Experiments", "TestSupport"],
            exclude: ["Golden", "Scenarios"]
        ),
    ]
)
