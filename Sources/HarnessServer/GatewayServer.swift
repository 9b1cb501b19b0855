//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore
import Harness
import Prometheus
import CoreMetrics
import HarnessConfig
public import Hummingbird
public import Logging
import NIOCore
public import ServiceLifecycle
import UnixSignals
import Tracing
import Instrumentation

/// Runs a ``Gateway`` over HTTP with its usage recorder, under one service group.
///
/// On SIGTERM or SIGINT the server stops accepting connections, lets in-flight requests
/// finish up to the configured shutdown timeout, then the usage recorder writes what is left.
public struct GatewayServer: Sendable {
    public let gateway: Gateway
    public let host: String
    public let port: Int
    let logger: Logger
    /// Replaces the gateway's relay routes (tests: a short timeout).
    var relayRoutes: [String: RelayRoute]? = nil

    public init(gateway: Gateway, host: String? = nil, port: Int? = nil, logger: Logger = Logger(label: "harness.serve")) {
        self.gateway = gateway
        self.host = host ?? gateway.configuration.server.host
        self.port = port ?? gateway.configuration.server.port
        self.logger = logger
    }

    /// The Hummingbird application (services included).
    public func makeApplication(onStarted: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let gateway = self.gateway
        // Relayed requests open no span: with a tracer in place every request takes the full path.
        let routes = relayRoutes ?? (InstrumentationSystem.tracer is NoOpTracer ? gateway.relayRoutes : [:])
        return Application(
            router: gateway.makeRouter(),
            server: .http1(configuration: .init(additionalChannelHandlers: {
                routes.isEmpty ? [FlushCoalescingHandler()] : [FlushCoalescingHandler(), GatewayRelay(gateway: gateway, routes: routes)]
            }())),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            services: [gateway.recorder, KeyRequirementRefresher(authenticator: gateway.authenticator)]
                + (gateway.health.map { [HealthCheckService(checker: $0)] } ?? []),
            onServerRunning: { channel in await onStarted(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    /// The service group that runs the server; `triggerGracefulShutdown()` on it stops it
    /// as SIGTERM would.
    ///
    /// `extraServices` (telemetry export, say) start first and stop last, after the server
    /// and the usage recorder, so they flush what the last requests produced.
    public func makeServiceGroup(
        signals: Bool = true, extraServices: [any Service] = [], onStarted: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> ServiceGroup {
        var config = ServiceGroupConfiguration(
            services: extraServices.map { .init(service: $0) } + [.init(service: makeApplication(onStarted: onStarted))],
            gracefulShutdownSignals: signals ? [.sigterm, .sigint] : [],
            logger: logger
        )
        config.maximumGracefulShutdownDuration = gateway.configuration.server.shutdownTimeout
        return ServiceGroup(configuration: config)
    }

    /// Serves until SIGTERM/SIGINT (when `signals`) or cancellation.
    public func run(
        signals: Bool = true, extraServices: [any Service] = [], onStarted: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        try await makeServiceGroup(signals: signals, extraServices: extraServices, onStarted: onStarted).run()
    }
}

/// Under `auth: auto`, notices a key created by another process or instance.
struct KeyRequirementRefresher: Service {
    let authenticator: KeyAuthenticator

    func run() async throws {
        await authenticator.refreshRequirement()
        // Ends quietly on shutdown: a cancelled sleep is the normal way out, not a failure.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(5))
                await authenticator.refreshRequirement()
            }
        }
    }
}

/// Runs the route health checks until shutdown.
struct HealthCheckService: Service {
    let checker: HealthChecker

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await checker.run()
        }
    }
}
