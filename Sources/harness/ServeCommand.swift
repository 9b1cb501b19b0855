//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import HarnessConfig
import HarnessCore
import HarnessServer
import HarnessOTel
import Instrumentation
import ServiceLifecycle
import Logging
import Metrics
import Prometheus

/// Loads `--config`, or `harness.yaml` when it exists, or the defaults.
func loadConfiguration(_ path: String?) throws -> (HarnessConfiguration, String) {
    do {
        if let path { return (try ConfigLoader.load(path: path), path) }
        if FileManager.default.fileExists(atPath: "harness.yaml") { return (try ConfigLoader.load(path: "harness.yaml"), "harness.yaml") }
        return (try ConfigLoader.load(path: nil), "defaults")
    } catch let error as ConfigError {
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        throw ExitCode(2)
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: OpenAI- and Anthropic-compatible API in front of the configured models."
    )

    @Option(help: "The configuration file (default: harness.yaml if present).")
    var config: String?

    @Option(help: "The address to listen on (default: server.host, 127.0.0.1).")
    var host: String?

    @Option(help: "The port (default: server.port, 8080; 0 picks a free one).")
    var port: Int?

    @Option(help: "Where keys, usage and conversations live: memory, sqlite:PATH or postgres://… (default: the configured storage).")
    var storage: String?

    @Option(help: "Write the port actually bound to this file once listening (for scripts).")
    var portFile: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        let (configuration, source) = try loadConfiguration(config)
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        let prometheus = HelpfulPrometheusFactory(registry: registry)
        var telemetry: [any Service] = []
        if configuration.tracing.enabled, let endpoint = configuration.tracing.otlpEndpoint {
            // Spans (and, if asked, metrics) to an OTLP/HTTP collector; metrics stay on /metrics too.
            let backends: HarnessOTel.Backends
            do {
                backends = try HarnessOTel.makeBackends(OTLPExportConfiguration(
                    endpoint: endpoint, serviceName: configuration.tracing.serviceName,
                    sampleRate: configuration.tracing.sampleRate, exportsMetrics: configuration.tracing.exportMetrics
                ))
            } catch {
                FileHandle.standardError.write(Data("harness serve: \(error)\n".utf8))
                throw ExitCode(2)
            }
            InstrumentationSystem.bootstrap(backends.tracer)
            if let otelMetrics = backends.metricsFactory {
                MetricsSystem.bootstrap(MultiplexMetricsHandler(factories: [prometheus, otelMetrics]))
            } else {
                MetricsSystem.bootstrap(prometheus)
            }
            telemetry.append(backends.service)
        } else {
            MetricsSystem.bootstrap(prometheus)
        }
        let location = storage ?? configuration.storage
        if location.hasPrefix("sqlite:") {
            let path = String(location.dropFirst("sqlite:".count))
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        }
        try await Stores.withGatewayStores(location) { stores in
            let gateway: Gateway
            do {
                gateway = try Gateway(configuration: configuration, stores: stores, registry: registry)
            } catch {
                FileHandle.standardError.write(Data("harness serve: \(error)\n".utf8))
                throw ExitCode(2)
            }
            await gateway.authenticator.refreshRequirement()
            let server = GatewayServer(gateway: gateway, host: host, port: port)
            let portFile = self.portFile
            try await server.run(extraServices: telemetry) { bound in
                let auth = gateway.authenticator.isRequired ? "virtual keys required" : "off (create a key with `harness keys create` to turn it on)"
                print("""
                    harness serve: listening on http://\(server.host):\(bound) (config: \(source), storage: \(location.hasPrefix("postgres") ? "postgres" : location))
                      models: \(gateway.modelNames.joined(separator: ", "))\(gateway.agentNames.isEmpty ? "" : "; agents: " + gateway.agentNames.joined(separator: ", "))
                      auth: \(auth)
                      try: curl -s http://\(server.host):\(bound)/v1/chat/completions -H 'content-type: application/json' -d '{"model":"\(gateway.modelNames.first ?? "scripted")","messages":[{"role":"user","content":"Hello"}]}'
                    """)
                fflush(nil)
                if let portFile { try? String(bound).write(toFile: portFile, atomically: true, encoding: .utf8) }
            }
            print("harness serve: stopped; \(gateway.recorder.written) usage records written")
        }
    }
}

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the gateway's virtual keys (only their hashes are stored).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Common: ParsableArguments {
        @Option(help: "The configuration file (default: harness.yaml if present).")
        var config: String?

        @Option(help: "Where keys live: sqlite:PATH or postgres://… (default: the configured storage).")
        var storage: String?
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key; it is printed once.")

        @OptionGroup var common: Common
        @Option(help: "A name for the key.") var name: String = "key"
        @Option(name: .customLong("budget-usd"), help: "Spending limit in USD.") var budgetUSD: Double?
        @Option(help: "Requests per minute.") var rpm: Int?
        @Option(help: "Tokens per minute.") var tpm: Int?

        func validate() throws {
            if let b = budgetUSD, b < 0 { throw ValidationError("--budget-usd must not be negative") }
            if let r = rpm, r < 1 { throw ValidationError("--rpm must be at least 1") }
            if let t = tpm, t < 1 { throw ValidationError("--tpm must be at least 1") }
        }

        func run() async throws {
            let (configuration, _) = try loadConfiguration(common.config)
            try await Stores.withGatewayStores(common.storage ?? configuration.storage) { stores in
                let (secret, record) = KeyAuthenticator.issue(
                    tenant: configuration.server.tenant, name: name, budgetUSD: budgetUSD, requestsPerMinute: rpm, tokensPerMinute: tpm
                )
                try await stores.keys.create(record)
                print(secret)
                FileHandle.standardError.write(Data("created \(record.id) (\(name)); the key above is shown only once\n".utf8))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys with their limits and spend.")
        @OptionGroup var common: Common

        func run() async throws {
            let (configuration, _) = try loadConfiguration(common.config)
            try await Stores.withGatewayStores(common.storage ?? configuration.storage) { stores in
                let tenant = configuration.server.tenant
                for key in try await stores.keys.list(tenant: tenant) {
                    let spent = try await stores.ledger.totalCost(tenant: tenant, apiKeyID: key.id, since: nil)
                    let budget = key.budgetUSD.map { String(format: "$%.2f", $0) } ?? "no budget"
                    print("\(key.id)  \(key.displayPrefix)…  \(key.name)  spent $\(String(format: "%.4f", spent)) of \(budget)  rpm \(key.requestsPerMinute.map(String.init) ?? "-")  tpm \(key.tokensPerMinute.map(String.init) ?? "-")\(key.revokedAt == nil ? "" : "  REVOKED")")
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id.")
        @OptionGroup var common: Common
        @Argument(help: "The key's id (key_…).") var id: String

        func run() async throws {
            let (configuration, _) = try loadConfiguration(common.config)
            try await Stores.withGatewayStores(common.storage ?? configuration.storage) { stores in
                guard try await stores.keys.revoke(id: id, tenant: configuration.server.tenant, at: Date()) else {
                    print("no active key \(id)")
                    throw ExitCode(1)
                }
                print("revoked \(id)")
            }
        }
    }
}
