//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import Synchronization

/// A thread-safe least-recently-used cache with optional expiry, O(1) for get, set and
/// eviction.
///
/// Entries live in one array, threaded by two lists of indices: a doubly linked recency
/// list and, per hash bucket, a chain. Each operation hashes its key once; a full cache
/// reuses the evicted entry's slot, so nothing is allocated per entry. A `Mutex` guards it.
///
/// ```swift
/// let cache = LRUCache<String, Int>(capacity: 1000, defaultTTL: .seconds(60))
/// cache.set("a", 1)
/// cache.get("a") // 1
/// ```
public final class LRUCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    @usableFromInline
    struct Node {
        @usableFromInline var key: Key
        /// `nil` once removed (the slot waits on the free list, releasing the value).
        @usableFromInline var value: Value?
        @usableFromInline var hash: Int
        /// Expiry in nanoseconds of the cache's clock; 0 means never.
        @usableFromInline var expires: UInt64
        @usableFromInline var prev: Int
        @usableFromInline var next: Int
        /// The next node in the same hash bucket.
        @usableFromInline var chain: Int

        @inlinable
        init(key: Key, value: Value?, hash: Int, expires: UInt64, prev: Int, next: Int, chain: Int) {
            self.key = key
            self.value = value
            self.hash = hash
            self.expires = expires
            self.prev = prev
            self.next = next
            self.chain = chain
        }
    }

    @usableFromInline
    struct State {
        @usableFromInline var buckets: [Int]
        @usableFromInline var nodes: [Node] = []
        @usableFromInline var free: [Int] = []
        @usableFromInline var count = 0
        /// Most recently used.
        @usableFromInline var head = -1
        /// Least recently used.
        @usableFromInline var tail = -1
        @usableFromInline var hits = 0
        @usableFromInline var misses = 0
        @usableFromInline var evictions = 0

        @inlinable init(bucketCount: Int) {
            buckets = Array(repeating: -1, count: bucketCount)
        }

        @inlinable var mask: Int { buckets.count - 1 }

        @inlinable func find(_ key: Key, hash: Int) -> Int? {
            var i = buckets[hash & mask]
            while i >= 0 {
                if nodes[i].hash == hash, nodes[i].key == key { return i }
                i = nodes[i].chain
            }
            return nil
        }

        @inlinable mutating func unchain(_ slot: Int) {
            let b = nodes[slot].hash & mask
            var i = buckets[b]
            if i == slot {
                buckets[b] = nodes[slot].chain
                return
            }
            while i >= 0 {
                let next = nodes[i].chain
                if next == slot {
                    nodes[i].chain = nodes[slot].chain
                    return
                }
                i = next
            }
        }

        @inlinable mutating func chain(_ slot: Int) {
            let b = nodes[slot].hash & mask
            nodes[slot].chain = buckets[b]
            buckets[b] = slot
        }

        @inlinable mutating func unlink(_ slot: Int) {
            let prev = nodes[slot].prev
            let next = nodes[slot].next
            if prev >= 0 { nodes[prev].next = next } else { head = next }
            if next >= 0 { nodes[next].prev = prev } else { tail = prev }
            nodes[slot].prev = -1
            nodes[slot].next = -1
        }

        @inlinable mutating func linkFront(_ slot: Int) {
            nodes[slot].prev = -1
            nodes[slot].next = head
            if head >= 0 { nodes[head].prev = slot }
            head = slot
            if tail < 0 { tail = slot }
        }

        @inlinable mutating func moveToFront(_ slot: Int) {
            guard head != slot else { return }
            unlink(slot)
            linkFront(slot)
        }

        @inlinable mutating func remove(_ slot: Int) {
            unchain(slot)
            unlink(slot)
            nodes[slot].value = nil
            free.append(slot)
            count -= 1
        }

        /// Doubles the bucket array, re-chaining from the stored hashes.
        @inlinable mutating func grow() {
            buckets = Array(repeating: -1, count: buckets.count * 2)
            for i in nodes.indices where nodes[i].value != nil { chain(i) }
        }
    }

    /// The most entries held at once.
    public let capacity: Int
    /// The TTL of entries set without one; `nil` means they never expire.
    public let defaultTTL: Duration?
    @usableFromInline let state: Mutex<State>
    @usableFromInline let now: @Sendable () -> UInt64

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
        // Buckets: a power of two, at least twice the entries (grown as entries arrive).
        var buckets = 16
        while buckets < min(self.capacity * 2, 1 << 16) { buckets <<= 1 }
        var s = State(bucketCount: buckets)
        s.nodes.reserveCapacity(min(self.capacity, 1 << 16))
        self.state = Mutex(s)
    }

    /// The value for `key` if present and not expired; marks it most recently used.
    @inlinable
    public func get(_ key: Key) -> Value? {
        let hash = key.hashValue
        return state.withLock { s in
            guard let slot = s.find(key, hash: hash) else {
                s.misses += 1
                return nil
            }
            let expires = s.nodes[slot].expires
            if expires != 0, now() >= expires {
                s.remove(slot)
                s.misses += 1
                return nil
            }
            s.moveToFront(slot)
            s.hits += 1
            return s.nodes[slot].value
        }
    }

    /// Stores `value` under `key`, evicting the least recently used entry when full.
    /// - Parameter ttl: how long the entry lives; `defaultTTL` when `nil`.
    @inlinable
    public func set(_ key: Key, _ value: Value, ttl: Duration? = nil) {
        let lifetime = ttl ?? defaultTTL
        let expires: UInt64 = lifetime.map { now() &+ UInt64(max(1, $0.nanoseconds)) } ?? 0
        let hash = key.hashValue
        state.withLock { s in
            if let slot = s.find(key, hash: hash) {
                s.nodes[slot].value = value
                s.nodes[slot].expires = expires
                s.moveToFront(slot)
                return
            }
            let slot: Int
            if s.count >= capacity, s.tail >= 0 {
                // Reuse the least recently used entry's slot in place.
                slot = s.tail
                s.unchain(slot)
                s.unlink(slot)
                s.evictions += 1
                s.nodes[slot].key = key
                s.nodes[slot].value = value
                s.nodes[slot].hash = hash
                s.nodes[slot].expires = expires
            } else {
                let node = Node(key: key, value: value, hash: hash, expires: expires, prev: -1, next: -1, chain: -1)
                if let reused = s.free.popLast() {
                    slot = reused
                    s.nodes[slot] = node
                } else {
                    slot = s.nodes.count
                    s.nodes.append(node)
                }
                s.count += 1
            }
            s.chain(slot)
            s.linkFront(slot)
            if s.count * 2 > s.buckets.count { s.grow() }
        }
    }

    /// Removes `key`; returns whether it was present.
    @inlinable
    @discardableResult
    public func remove(_ key: Key) -> Bool {
        let hash = key.hashValue
        return state.withLock { s in
            guard let slot = s.find(key, hash: hash) else { return false }
            s.remove(slot)
            return true
        }
    }

    /// Removes every entry.
    @inlinable
    public func removeAll() {
        state.withLock { s in s = State(bucketCount: 16) }
    }

    /// The number of entries held (expired ones included until touched).
    public var count: Int { state.withLock { $0.count } }

    /// Hits, misses and evictions so far.
    public var statistics: (hits: Int, misses: Int, evictions: Int) {
        state.withLock { ($0.hits, $0.misses, $0.evictions) }
    }
}

extension Duration {
    /// The whole duration in nanoseconds, saturating.
    @usableFromInline
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
