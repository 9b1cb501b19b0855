//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Synchronization

/// Periodic, cheap health checks of routes; a ``Router`` passes over the routes it marks
/// unhealthy, and ``isReady`` answers `/health/ready`.
///
/// Each route has a check closure (a tiny completion, a `GET /models`, a TCP connect…). A
/// route is marked unhealthy after `unhealthyThreshold` consecutive failed checks and
/// healthy again after `healthyThreshold` consecutive passed ones; a route never checked
/// counts as healthy. ``run()`` checks every route each `interval` until cancelled (run it
/// as a service); ``checkAll()`` runs one round (tests, or a manual trigger).
public final class HealthChecker: Sendable {
    /// A route's check: returns when healthy, throws when not.
    public typealias Check = @Sendable () async throws -> Void

    /// How checks run.
    public struct Configuration: Sendable, Hashable {
        /// Time between rounds.
        public var interval: Duration
        /// A check that takes longer fails.
        public var timeout: Duration
        /// Consecutive failures that mark a route unhealthy.
        public var unhealthyThreshold: Int
        /// Consecutive passes that mark an unhealthy route healthy again.
        public var healthyThreshold: Int

        public init(
            interval: Duration = .seconds(10),
            timeout: Duration = .seconds(5),
            unhealthyThreshold: Int = 1,
            healthyThreshold: Int = 1
        ) {
            self.interval = interval
            self.timeout = timeout
            self.unhealthyThreshold = max(1, unhealthyThreshold)
            self.healthyThreshold = max(1, healthyThreshold)
        }
    }

    /// A route's health as last checked.
    public struct Status: Sendable, Hashable {
        public var healthy = true
        public var consecutiveFailures = 0
        public var consecutivePasses = 0
        /// The last check's error, for people.
        public var lastError: String?
        /// Checks run.
        public var checks = 0
    }

    public let configuration: Configuration
    private let checks: [(route: String, check: Check)]
    private let clock: ResilienceClock
    private let onChange: (@Sendable (String, Bool) -> Void)?
    private let statuses: Mutex<[String: Status]>

    /// - Parameters:
    ///   - checks: a check per route name.
    ///   - configuration: interval, timeout and thresholds.
    ///   - clock: the time source.
    ///   - onChange: called with the route name and its new health when it changes.
    public init(
        checks: [String: Check],
        configuration: Configuration = Configuration(),
        clock: ResilienceClock = .continuous,
        onChange: (@Sendable (String, Bool) -> Void)? = nil
    ) {
        self.checks = checks.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        self.configuration = configuration
        self.clock = clock
        self.onChange = onChange
        self.statuses = Mutex(Dictionary(uniqueKeysWithValues: checks.keys.map { ($0, Status()) }))
    }

    /// Whether `route` may be called (routes without a check are always healthy).
    public func isHealthy(_ route: String) -> Bool {
        statuses.withLock { $0[route]?.healthy ?? true }
    }

    /// Every checked route's status.
    public var status: [String: Status] { statuses.withLock { $0 } }

    /// Whether any checked route is healthy: the answer of `/health/ready`.
    public var isReady: Bool {
        statuses.withLock { s in s.isEmpty || s.values.contains { $0.healthy } }
    }

    /// Checks every route once, concurrently.
    public func checkAll() async {
        let clock = self.clock
        let timeout = configuration.timeout
        await withTaskGroup(of: (String, String?).self) { group in
            for (route, check) in checks {
                group.addTask {
                    do {
                        try await Self.withTimeout(timeout, clock: clock, check)
                        return (route, nil)
                    } catch {
                        return (route, String(describing: error))
                    }
                }
            }
            for await (route, failure) in group { update(route, failure: failure) }
        }
    }

    /// Checks every route each interval until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            await checkAll()
            do { try await clock.sleep(configuration.interval) } catch { return }
        }
    }

    private func update(_ route: String, failure: String?) {
        let change: Bool? = statuses.withLock { s in
            var status = s[route] ?? Status()
            let was = status.healthy
            status.checks += 1
            if let failure {
                status.consecutiveFailures += 1
                status.consecutivePasses = 0
                status.lastError = failure
                if status.consecutiveFailures >= configuration.unhealthyThreshold { status.healthy = false }
            } else {
                status.consecutivePasses += 1
                status.consecutiveFailures = 0
                status.lastError = nil
                if status.consecutivePasses >= configuration.healthyThreshold { status.healthy = true }
            }
            s[route] = status
            return was != status.healthy ? status.healthy : nil
        }
        if let change { onChange?(route, change) }
    }

    private static func withTimeout(_ timeout: Duration, clock: ResilienceClock, _ check: @escaping Check) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await check()
                return true
            }
            group.addTask {
                try await clock.sleep(timeout)
                return false
            }
            defer { group.cancelAll() }
            guard let passed = try await group.next(), passed else {
                throw HealthCheckTimeout(timeout: timeout)
            }
        }
    }
}

/// A health check ran past its timeout.
struct HealthCheckTimeout: Error, CustomStringConvertible {
    var timeout: Duration
    var description: String { "the health check took longer than \(timeout)" }
}
