// swift-tools-version: 6.1
import CompilerPluginSupport
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Harness",
    platforms: [.macOS(.v15), .iOS(.v18)],
    products: [
        .library(name: "HarnessCore", targets: ["HarnessCore"]),
        .library(name: "Harness", targets: ["Harness"]),
        .library(name: "HarnessConfig", targets: ["HarnessConfig"]),
        .library(name: "HarnessTesting", targets: ["HarnessTesting"]),
        .library(name: "HarnessMacros", targets: ["HarnessMacros"]),
        .library(name: "HarnessProviders", targets: ["HarnessProviders"]),
        .library(name: "HarnessProvidersTesting", targets: ["HarnessProvidersTesting"]),
        .library(name: "HarnessSQLite", targets: ["HarnessSQLite"]),
        .library(name: "HarnessOTel", targets: ["HarnessOTel"]),
        .library(name: "HarnessPostgres", targets: ["HarnessPostgres"]),
        .library(name: "HarnessServer", targets: ["HarnessServer"]),
        .executable(name: "harness", targets: ["harness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-syntax.git", from: "603.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // OTLP/HTTP only: the default traits would build gRPC too.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .target(name: "HarnessCore"),
        .target(
            name: "Harness",
            dependencies: [
                "HarnessCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "HarnessConfig",
            dependencies: ["Harness", "HarnessCore", .product(name: "Yams", package: "Yams")]
        ),
        .target(name: "HarnessTesting", dependencies: ["Harness", "HarnessCore"]),
        // `@Schema`: its own modules, so that only code using it builds swift-syntax.
        .macro(
            name: "HarnessMacrosPlugin",
            dependencies: [
                .product(name: "SwiftSyntaxMacros", package: "swift-syntax"),
                .product(name: "SwiftCompilerPlugin", package: "swift-syntax"),
            ]
        ),
        .target(name: "HarnessMacros", dependencies: ["HarnessCore", "HarnessMacrosPlugin"]),
        // Model providers over HTTP: the only core-adjacent module that builds AsyncHTTPClient.
        .target(
            name: "HarnessProviders",
            dependencies: [
                "Harness", "HarnessCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ]
        ),
        // A scriptable HTTP server speaking recorded provider wire formats, for tests and benchmarks.
        .target(
            name: "HarnessProvidersTesting",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // OTLP export of spans and metrics (swift-otel): only the server and its tests build it.
        .target(
            name: "HarnessOTel",
            dependencies: [
                "Harness",
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "HarnessSQLite",
            dependencies: [
                "Harness", "HarnessCore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "HarnessPostgres",
            dependencies: ["Harness", "HarnessCore", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        // The gateway: OpenAI- and Anthropic-compatible HTTP API in front of every provider.
        .target(
            name: "HarnessServer",
            dependencies: [
                "Harness", "HarnessCore", "HarnessConfig", "HarnessProviders", "HarnessTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ]
        ),
        .executableTarget(
            name: "harness",
            dependencies: [
                "Harness", "HarnessCore", "HarnessConfig", "HarnessTesting", "HarnessSQLite", "HarnessPostgres", "HarnessProviders",
                "HarnessServer", "HarnessOTel",
                "HarnessProvidersTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),  // bench-loop --tracer memory
            ]
        ),
        .testTarget(name: "HarnessCoreTests", dependencies: ["HarnessCore"]),
        .testTarget(
            name: "HarnessTests",
            dependencies: [
                "Harness", "HarnessCore", "HarnessTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(name: "HarnessConfigTests", dependencies: ["HarnessConfig", "Harness", "HarnessCore"]),
        .testTarget(name: "HarnessTestingTests", dependencies: ["HarnessTesting", "Harness", "HarnessCore"]),
        .testTarget(
            name: "HarnessProvidersTests",
            dependencies: [
                "HarnessProviders", "HarnessProvidersTesting", "HarnessCore", "Harness",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            exclude: ["Fixtures"]  // read at test time by path (the botocore cross-check script)
        ),
        .testTarget(
            name: "HarnessServerTests",
            dependencies: [
                "HarnessServer", "HarnessProviders", "HarnessProvidersTesting", "HarnessTesting", "Harness", "HarnessCore", "HarnessPostgres",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // Resilience against a real flaky upstream: WireTestServer behind real provider models.
        .testTarget(
            name: "HarnessResilienceTests",
            dependencies: ["Harness", "HarnessCore", "HarnessProviders", "HarnessProvidersTesting", "HarnessTesting"]
        ),
        .testTarget(
            name: "HarnessOTelTests",
            dependencies: [
                "HarnessOTel", "Harness", "HarnessCore", "HarnessProviders", "HarnessProvidersTesting",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "HarnessSQLiteTests", dependencies: ["HarnessSQLite", "HarnessTesting", "Harness", "HarnessCore"]),
        .testTarget(name: "HarnessPostgresTests", dependencies: ["HarnessPostgres", "HarnessTesting", "Harness", "HarnessCore"]),
        .testTarget(
            name: "HarnessMacrosTests",
            dependencies: [
                "HarnessMacros", "HarnessMacrosPlugin", "HarnessCore", "Harness", "HarnessTesting",
                .product(name: "SwiftSyntaxMacrosTestSupport", package: "swift-syntax"),
            ]
        ),
    ]
)

for target in package.targets {
    target.swiftSettings = (target.swiftSettings ?? []) + upcoming
}
