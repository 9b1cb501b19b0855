//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Harness
import HarnessConfig
import HarnessCore
import Testing

@Suite struct ConfigLoaderTests {
    @Test func emptyFileGivesDefaults() throws {
        let config = try ConfigLoader.load(yaml: "")
        #expect(config == HarnessConfiguration())
    }

    @Test func everyKeyIsRead() throws {
        let yaml = """
            cache:
              enabled: false
              capacity: 50
              ttl: 90s
            rate_limit:
              enabled: true
              capacity: 5
              refill_per_second: 0.5
              mode: refuse
              max_wait: 250ms
            policy:
              max_iterations: 4
              max_tool_depth: 2
              max_tool_calls: 12
              max_total_tokens: 9000
              max_output_size: 2048
              max_tool_output_size: 4096
              tool_timeout: 2m
              tool_concurrency: 3
              eager_tools: false
              loop_threshold: 5
            guardrails:
              blocked_words: [password, "credit card"]
              blocked_patterns: ['sk-[a-z]+']
              allowed_tools: [get_weather]
            tracing:
              enabled: true
              sample_rate: 0.25
              otlp_endpoint: http://collector:4318
              service_name: gw
              export_metrics: true
            """
        let c = try ConfigLoader.load(yaml: yaml)
        #expect(c.cache.enabled == false && c.cache.capacity == 50 && c.cache.ttl == .seconds(90))
        #expect(c.rateLimit.enabled && c.rateLimit.capacity == 5 && c.rateLimit.refillPerSecond == 0.5)
        #expect(c.rateLimit.refuse && c.rateLimit.maxWait == .milliseconds(250))
        #expect(c.policy.maxIterations == 4 && c.policy.maxToolDepth == 2 && c.policy.maxToolCalls == 12)
        #expect(c.policy.maxTotalTokens == 9000 && c.maxOutputSize == 2048 && c.policy.maxToolOutputBytes == 4096)
        #expect(c.policy.toolTimeout == .seconds(120) && c.policy.toolConcurrency == 3)
        #expect(c.policy.eagerToolExecution == false && c.policy.loopThreshold == 5)
        #expect(c.guardrails.blockedWords == ["password", "credit card"])
        #expect(c.guardrails.blockedPatterns == ["sk-[a-z]+"])
        #expect(c.guardrails.allowedTools == ["get_weather"])
        #expect(c.tracing.enabled && c.tracing.sampleRate == 0.25)
        #expect(c.tracing.otlpEndpoint == "http://collector:4318" && c.tracing.serviceName == "gw" && c.tracing.exportMetrics)
        // Everything listed is a key the loader knows, and vice versa.
        #expect(ConfigLoader.knownKeys.count == 44)
    }

    @Test func badValueNamesKeyAndLine() throws {
        let yaml = """
            cache:
              enabled: true
              capacity: lots
            """
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: yaml, source: "harness.yaml") }
        let d = try #require(error.diagnostics.first)
        #expect(d.key == "cache.capacity")
        #expect(d.line == 3)
        #expect(d.description.contains("harness.yaml:3"))
        #expect(d.description.contains("whole number"))
    }

    @Test func unknownKeysAreReportedWithASuggestion() throws {
        let yaml = """
            cache:
              enabeld: true
            polcy:
              max_iterations: 3
            """
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: yaml) }
        #expect(error.diagnostics.count == 2)
        #expect(error.diagnostics[0].key == "cache.enabeld" && error.diagnostics[0].line == 2)
        #expect(error.diagnostics[0].message.contains("did you mean 'cache.enabled'"))
        #expect(error.diagnostics[1].key == "polcy" && error.diagnostics[1].line == 3)
        #expect(error.diagnostics[1].message.contains("'policy'"))
    }

    @Test func everyProblemIsReportedNotOnlyTheFirst() throws {
        let yaml = """
            policy:
              max_iterations: -1
              tool_timeout: soon
              eager_tools: maybe
            rate_limit:
              mode: sometimes
            guardrails:
              blocked_patterns: ['(unclosed']
            """
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: yaml) }
        let keys = Set(error.diagnostics.compactMap(\.key))
        #expect(keys == ["policy.max_iterations", "policy.tool_timeout", "policy.eager_tools", "rate_limit.mode", "guardrails.blocked_patterns[0]"])
        #expect(error.diagnostics.first { $0.key == "policy.eager_tools" }?.line == 4)
    }

    @Test func syntaxErrorNamesTheLine() throws {
        let yaml = "cache:\n  enabled: true\n  capacity: [1, 2\n"
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: yaml) }
        #expect(error.diagnostics.first?.line != nil)
        #expect(error.description.contains("not valid YAML"))
    }

    @Test func wrongShapeIsReported() throws {
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: "cache: [1, 2]\nguardrails:\n  blocked_words: password\n") }
        #expect(error.diagnostics.map(\.key) == ["cache", "guardrails.blocked_words"])
    }

    @Test func duplicateKeysAreReported() throws {
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: "cache:\n  capacity: 1\n  capacity: 2\n") }
        // Yams refuses duplicate keys while parsing; the key is named.
        #expect(error.diagnostics.count == 1)
        #expect(error.description.contains("duplicated key(s): 'capacity'"))
    }

    @Test func environmentOverridesTheFile() throws {
        let env = [
            "HARNESS_CACHE_CAPACITY": "77",
            "HARNESS_POLICY_MAX_TOOL_CALLS": "none",
            "HARNESS_GUARDRAILS_BLOCKED_WORDS": "alpha, beta",
            "HARNESS_POLICY_TOOL_TIMEOUT": "1.5",
            "UNRELATED": "x",
        ]
        let c = try ConfigLoader.load(yaml: "cache:\n  capacity: 10\npolicy:\n  max_tool_calls: 5\n", environment: env)
        #expect(c.cache.capacity == 77)
        #expect(c.policy.maxToolCalls == nil)
        #expect(c.guardrails.blockedWords == ["alpha", "beta"])
        #expect(c.policy.toolTimeout == .milliseconds(1500))
        #expect(ConfigLoader.environmentName(for: "rate_limit.refill_per_second") == "HARNESS_RATE_LIMIT_REFILL_PER_SECOND")
    }

    @Test func badEnvironmentValueNamesTheVariable() throws {
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader.load(yaml: "", environment: ["HARNESS_CACHE_ENABLED": "perhaps"])
        }
        #expect(error.diagnostics.first?.key == "HARNESS_CACHE_ENABLED")
        #expect(error.diagnostics.first?.source == "environment")
    }

    @Test func missingFileIsAClearError() throws {
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(path: "/nonexistent/harness.yaml", environment: [:]) }
        #expect(error.description.contains("/nonexistent/harness.yaml"))
    }

    @Test func factoryBuildsWhatTheConfigSays() async throws {
        let c = try ConfigLoader.load(yaml: """
            cache: {enabled: true, capacity: 2}
            rate_limit: {enabled: true, capacity: 1, refill_per_second: 0.001, mode: refuse}
            guardrails: {blocked_words: [forbidden], allowed_tools: [a]}
            policy: {max_iterations: 2, max_output_size: 100}
            """)
        let factory = HarnessFactory(configuration: c)
        let orchestrator = factory.makeOrchestrator()
        #expect(orchestrator.configuration.responseCache != nil)
        #expect(orchestrator.configuration.rateLimiter != nil)
        let guardrails = try factory.makeGuardrails()
        #expect(guardrails.checkInput("this is FORBIDDEN") != nil)
        #expect(guardrails.allowedTools == ["a"])
        #expect(guardrails.maxOutputBytes == 100)
        #expect(factory.makePolicy().maxIterations == 2)
        // The limiter refuses the second call at once.
        let limiter = try #require(orchestrator.configuration.rateLimiter)
        try await limiter.acquire(key: "k", cost: 1)
        await #expect(throws: HarnessError.self) { try await limiter.acquire(key: "k", cost: 1) }
    }

    @Test func durationsParse() {
        #expect(ConfigLoader.parseDuration("500ms") == .milliseconds(500))
        #expect(ConfigLoader.parseDuration("30s") == .seconds(30))
        #expect(ConfigLoader.parseDuration("5m") == .seconds(300))
        #expect(ConfigLoader.parseDuration("1h") == .seconds(3600))
        #expect(ConfigLoader.parseDuration("2") == .seconds(2))
        #expect(ConfigLoader.parseDuration("soon") == nil)
        #expect(ConfigLoader.parseDuration("-1s") == nil)
    }
}

@Suite struct StorageConfigTests {
    @Test func storageDefaultsToSQLiteAndTheEnvironmentSwitchesIt() throws {
        #expect(try ConfigLoader.load(yaml: "").storage == "sqlite:.harness/harness.sqlite")
        #expect(try ConfigLoader.load(yaml: "storage: postgres://u@127.0.0.1:5432/h\n").storage == "postgres://u@127.0.0.1:5432/h")
        let env = ["HARNESS_DATABASE_URL": "postgres://db/x"]
        #expect(try ConfigLoader.load(yaml: "storage: sqlite:a.db\n", environment: env).storage == "postgres://db/x")
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: "storage: mysql://x\n") }
        #expect(error.diagnostics.first?.key == "storage")
    }
}
