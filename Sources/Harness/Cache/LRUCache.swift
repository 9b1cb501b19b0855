//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Synchronization

/// A thread-safe least-recently-used cache with optional expiry, O(1) for get, set and
/// eviction.
///
/// Entries live in one array threaded by a doubly linked list of indices (no allocation per
/// entry once the cache is full); a dictionary maps keys to slots. A `Mutex` guards it.
///
/// ```swift
/// let cache = LRUCache<String, Int>(capacity: 1000, defaultTTL: .seconds(60))
/// cache.set("a", 1)
/// cache.get("a") // 1
/// ```
public final class LRUCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    struct Node {
        var key: Key
        var value: Value
        /// Expiry in nanoseconds of the cache's clock; 0 means never.
        var expires: UInt64
        var prev: Int
        var next: Int
    }

    struct State {
        var slots: [Key: Int] = [:]
        var nodes: [Node] = []
        var free: [Int] = []
        /// Most recently used.
        var head = -1
        /// Least recently used.
        var tail = -1
        var hits = 0
        var misses = 0
        var evictions = 0
    }

    /// The most entries held at once.
    public let capacity: Int
    /// The TTL of entries set without one; `nil` means they never expire.
    public let defaultTTL: Duration?
    private let state: Mutex<State>
    private let now: @Sendable () -> UInt64

    /// Creates a cache.
    /// - Parameters:
    ///   - capacity: the most entries held; at least 1.
    ///   - defaultTTL: the TTL of entries set without one; `nil` for none.
    public convenience init(capacity: Int, defaultTTL: Duration? = nil) {
        let start = ContinuousClock.now
        self.init(capacity: capacity, defaultTTL: defaultTTL) {
            UInt64((ContinuousClock.now - start).nanoseconds) &+ 1
        }
    }

    /// Creates a cache that reads time from `now` (nanoseconds, monotonic), for tests.
    package init(capacity: Int, defaultTTL: Duration?, now: @escaping @Sendable () -> UInt64) {
        self.capacity = max(1, capacity)
        self.defaultTTL = defaultTTL
        self.now = now
        var s = State()
        s.slots.reserveCapacity(self.capacity)
        s.nodes.reserveCapacity(min(self.capacity, 1 << 16))
        self.state = Mutex(s)
    }

    /// The value for `key` if present and not expired; marks it most recently used.
    public func get(_ key: Key) -> Value? {
        state.withLock { s in
            guard let slot = s.slots[key] else {
                s.misses += 1
                return nil
            }
            let expires = s.nodes[slot].expires
            if expires != 0, now() >= expires {
                Self.remove(slot: slot, from: &s)
                s.misses += 1
                return nil
            }
            Self.moveToFront(slot, in: &s)
            s.hits += 1
            return s.nodes[slot].value
        }
    }

    /// Stores `value` under `key`, evicting the least recently used entry when full.
    /// - Parameter ttl: how long the entry lives; `defaultTTL` when `nil`.
    public func set(_ key: Key, _ value: Value, ttl: Duration? = nil) {
        let lifetime = ttl ?? defaultTTL
        let expires: UInt64 = lifetime.map { now() &+ UInt64(max(1, $0.nanoseconds)) } ?? 0
        state.withLock { s in
            if let slot = s.slots[key] {
                s.nodes[slot].value = value
                s.nodes[slot].expires = expires
                Self.moveToFront(slot, in: &s)
                return
            }
            let slot: Int
            if s.slots.count >= capacity, s.tail >= 0 {
                // Reuse the least recently used slot in place.
                slot = s.tail
                s.slots.removeValue(forKey: s.nodes[slot].key)
                s.evictions += 1
                Self.unlink(slot, in: &s)
                s.nodes[slot].key = key
                s.nodes[slot].value = value
                s.nodes[slot].expires = expires
            } else if let reused = s.free.popLast() {
                slot = reused
                s.nodes[slot] = Node(key: key, value: value, expires: expires, prev: -1, next: -1)
            } else {
                slot = s.nodes.count
                s.nodes.append(Node(key: key, value: value, expires: expires, prev: -1, next: -1))
            }
            s.slots[key] = slot
            Self.linkFront(slot, in: &s)
        }
    }

    /// Removes `key`; returns whether it was present.
    @discardableResult
    public func remove(_ key: Key) -> Bool {
        state.withLock { s in
            guard let slot = s.slots[key] else { return false }
            Self.remove(slot: slot, from: &s)
            return true
        }
    }

    /// Removes every entry.
    public func removeAll() {
        state.withLock { s in s = State() }
    }

    /// The number of entries held (expired ones included until touched).
    public var count: Int { state.withLock { $0.slots.count } }

    /// Hits, misses and evictions so far.
    public var statistics: (hits: Int, misses: Int, evictions: Int) {
        state.withLock { ($0.hits, $0.misses, $0.evictions) }
    }

    private static func remove(slot: Int, from s: inout State) {
        s.slots.removeValue(forKey: s.nodes[slot].key)
        unlink(slot, in: &s)
        s.free.append(slot)
    }

    private static func unlink(_ slot: Int, in s: inout State) {
        let prev = s.nodes[slot].prev
        let next = s.nodes[slot].next
        if prev >= 0 { s.nodes[prev].next = next } else { s.head = next }
        if next >= 0 { s.nodes[next].prev = prev } else { s.tail = prev }
        s.nodes[slot].prev = -1
        s.nodes[slot].next = -1
    }

    private static func linkFront(_ slot: Int, in s: inout State) {
        s.nodes[slot].prev = -1
        s.nodes[slot].next = s.head
        if s.head >= 0 { s.nodes[s.head].prev = slot }
        s.head = slot
        if s.tail < 0 { s.tail = slot }
    }

    private static func moveToFront(_ slot: Int, in s: inout State) {
        guard s.head != slot else { return }
        unlink(slot, in: &s)
        linkFront(slot, in: &s)
    }
}

extension Duration {
    /// The whole duration in nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return ns &+ attoseconds / 1_000_000_000
    }

    /// The duration in seconds as a `Double`.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
