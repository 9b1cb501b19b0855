//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
public import struct Foundation.Data

/// Two caches as one: a fast local first level (the in-memory LRU) in front of a shared
/// second level (the database tier, shared by every instance).
///
/// `get` tries the first level, then the second, and copies a second-level hit into the first
/// (with `promotionTTL`, so an instance never serves an entry much past the shared expiry);
/// `set` and `delete` write through to both. A failing second level is not fatal for reads:
/// the miss is reported as a miss.
public struct TieredCache: Cache {
    public var first: any Cache
    public var second: any Cache
    /// TTL of entries copied up from the second level.
    public var promotionTTL: Duration?

    public init(first: any Cache, second: any Cache, promotionTTL: Duration? = .seconds(60)) {
        self.first = first
        self.second = second
        self.promotionTTL = promotionTTL
    }

    public func get(_ key: String) async throws -> Data? {
        if let hit = try await first.get(key) { return hit }
        guard let shared = try? await second.get(key) else { return nil }
        try? await first.set(key, value: shared, ttl: promotionTTL)
        return shared
    }

    public func set(_ key: String, value: Data, ttl: Duration?) async throws {
        try await first.set(key, value: value, ttl: Self.shorter(ttl, promotionTTL))
        try await second.set(key, value: value, ttl: ttl)
    }

    public func delete(_ key: String) async throws {
        try await first.delete(key)
        try await second.delete(key)
    }

    static func shorter(_ a: Duration?, _ b: Duration?) -> Duration? {
        switch (a, b) {
        case (nil, let x), (let x, nil): return x
        case (let x?, let y?): return min(x, y)
        }
    }
}
