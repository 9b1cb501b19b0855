//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import HarnessConfig
import Testing

@Suite struct ResilienceConfigTests {
    @Test func defaults() throws {
        let config = try ConfigLoader.load(yaml: "")
        #expect(config.retry == RetryPolicy())
        #expect(config.circuitBreaker == CircuitBreaker.Configuration())
        #expect(config.routing.strategy == .fallback)
        #expect(config.routing.hedgeDelay == nil)
    }

    @Test func readsEverySetting() throws {
        let config = try ConfigLoader.load(yaml: """
            retry:
              max_attempts: 5
              base_delay: 100ms
              factor: 3
              max_delay: 10s
              deadline: none
              attempt_timeout: 20s
            circuit_breaker:
              failure_threshold: 4
              failure_rate: none
              window: 2m
              minimum_requests: 30
              open_timeout: 45s
              half_open_probes: 2
              success_threshold: 3
            routing:
              strategy: cost_optimized
              hedge_delay: 2s
              health_check_interval: 15s
            """)
        #expect(config.retry == RetryPolicy(
            maxAttempts: 5, baseDelay: .milliseconds(100), factor: 3, maxDelay: .seconds(10), deadline: nil, attemptTimeout: .seconds(20)
        ))
        #expect(config.circuitBreaker == CircuitBreaker.Configuration(
            failureThreshold: 4, failureRateThreshold: nil, window: .seconds(120), minimumRequests: 30,
            openTimeout: .seconds(45), halfOpenProbes: 2, successThreshold: 3
        ))
        #expect(config.routing.strategy == .costOptimized)
        #expect(config.routing.hedgeDelay == .seconds(2))
        #expect(config.routing.healthCheckInterval == .seconds(15))
        let off = try ConfigLoader.load(yaml: "circuit_breaker:\n  enabled: false\n")
        #expect(off.circuitBreaker == nil)
    }

    /// Bad values are reported with key and line; cross-field problems with their key.
    @Test func diagnosticsNameKeyAndLine() {
        do {
            _ = try ConfigLoader.load(yaml: """
                retry:
                  max_attempts: 0
                  base_delay: 30s
                  max_delay: 1s
                circuit_breaker:
                  failure_rate: 1.5
                  open_timeot: 5s
                routing:
                  strategy: fastest
                """)
            Issue.record("expected diagnostics")
        } catch let error as ConfigError {
            let byKey = Dictionary(error.diagnostics.map { ($0.key ?? "", $0) }, uniquingKeysWith: { a, _ in a })
            #expect(byKey["retry.max_attempts"] != nil)
            #expect(byKey["retry.base_delay"]?.message.contains("max_delay") == true)
            #expect(byKey["circuit_breaker.failure_rate"] != nil)
            #expect(byKey["circuit_breaker.open_timeot"]?.message.contains("open_timeout") == true)
            #expect(byKey["circuit_breaker.open_timeot"]?.line == 7)
            #expect(byKey["routing.strategy"]?.line == 9)
            #expect(byKey["routing.strategy"]?.message.contains("round_robin") == true)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
