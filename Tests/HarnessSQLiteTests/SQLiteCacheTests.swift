//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HarnessCore
@testable import HarnessSQLite
import Synchronization
import Testing

@Suite struct SQLiteCacheTests {
    /// A clock the test moves by hand.
    final class Clock: Sendable {
        private let time = Mutex(Date(timeIntervalSince1970: 1_000_000))
        var now: Date { time.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { time.withLock { $0 += seconds } }
    }

    @Test func expiredEntriesAreNeverReturnedAndCanBeEvicted() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try directory.newDatabase()
        let clock = Clock()
        let cache = SQLiteCache(database: database, now: { clock.now })
        try await cache.set("a", value: Data("1".utf8), ttl: .seconds(10))
        try await cache.set("b", value: Data("2".utf8), ttl: .seconds(20))
        try await cache.set("c", value: Data("3".utf8), ttl: nil)
        clock.advance(9.999)
        #expect(try await cache.get("a") == Data("1".utf8))
        clock.advance(0.001)
        #expect(try await cache.get("a") == nil)
        #expect(try await database.strings("SELECT key FROM cache ORDER BY key") == ["b", "c"])  // get removed it
        clock.advance(100)
        #expect(try await cache.evictExpired(now: clock.now) == 1)
        #expect(try await database.strings("SELECT key FROM cache ORDER BY key") == ["c"])
        #expect(try await cache.get("c") == Data("3".utf8))
        // A new set replaces the expiry too.
        try await cache.set("c", value: Data("4".utf8), ttl: .seconds(1))
        clock.advance(2)
        #expect(try await cache.get("c") == nil)
    }

    @Test func emptyAndBinaryValuesRoundTrip() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cache = SQLiteCache(database: try directory.newDatabase())
        try await cache.set("empty", value: Data(), ttl: nil)
        #expect(try await cache.get("empty") == Data())
        let bytes = Data((0...255).map { UInt8($0) } + [0, 0])
        try await cache.set("bytes", value: bytes, ttl: .seconds(60))
        #expect(try await cache.get("bytes") == bytes)
    }

    @Test func twoProcessesShareEntries() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("shared.sqlite")
        let one = SQLiteCache(database: try SQLiteDatabase(path: path))
        let two = SQLiteCache(database: try SQLiteDatabase(path: path))
        try await one.set("k", value: Data("v".utf8), ttl: nil)
        #expect(try await two.get("k") == Data("v".utf8))
        try await two.delete("k")
        #expect(try await one.get("k") == nil)
    }
}
