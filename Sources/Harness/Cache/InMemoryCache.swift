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

/// The in-memory Cache: an LRUCache of bytes.
public struct InMemoryCache: Cache {
    /// The underlying LRU, for statistics.
    public let lru: LRUCache<String, Data>

    /// Creates a cache holding at most `capacity` entries.
    public init(capacity: Int = 1000, defaultTTL: Duration? = nil) {
        self.lru = LRUCache(capacity: capacity, defaultTTL: defaultTTL)
    }

    public func get(_ key: String) async throws -> Data? { lru.get(key) }

    public func set(_ key: String, value: Data, ttl: Duration?) async throws { lru.set(key, value, ttl: ttl) }

    public func delete(_ key: String) async throws { lru.remove(key) }
}
