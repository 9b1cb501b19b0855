//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import Prometheus
import CoreMetrics
import Crypto
import Foundation
public import HarnessConfig
public import HarnessCore
import Synchronization

/// Who is calling.
public enum Principal: Sendable {
    /// Authentication is off.
    case anonymous
    /// The operator, holding the admin key.
    case admin
    /// A virtual key.
    case key(VirtualKey)

    var keyID: String? {
        if case .key(let k) = self { return k.id }
        return nil
    }
}

/// Authenticates requests by virtual key and enforces each key's rate limits and budget.
///
/// Only hashes are stored (SHA-256 of the key). Lookups are cached for a few seconds, so a
/// key revoked on another instance stops working within ``cacheTTL``; on this instance at once.
/// Requests per minute and tokens per minute are token buckets per key, in memory (per
/// instance). A key's spend is read from the usage ledger once, then kept up to date by the
/// gateway's own usage records and re-read every ``cacheTTL``.
public final class KeyAuthenticator: Sendable {
    public let store: any VirtualKeyStore
    public let ledger: any UsageLedger
    public let tenant: String
    let adminKeyHash: String?
    let mode: GatewaySettings.AuthMode
    public let cacheTTL: Duration
    private let required: Atomic<Bool>
    private let clock = ContinuousClock()

    struct CachedKey {
        var key: VirtualKey?
        var fetched: ContinuousClock.Instant
    }

    struct Limits {
        var requestTokens: Double
        var tokenTokens: Double
        var updated: ContinuousClock.Instant
    }

    struct Spend {
        var usd: Double
        var fetched: ContinuousClock.Instant
    }

    private let cache = Mutex<[String: CachedKey]>([:])
    private let limits = Mutex<[String: Limits]>([:])
    private let spend = Mutex<[String: Spend]>([:])

    public init(
        store: any VirtualKeyStore, ledger: any UsageLedger, tenant: String, adminKey: String?,
        mode: GatewaySettings.AuthMode, cacheTTL: Duration = .seconds(5)
    ) {
        self.store = store
        self.ledger = ledger
        self.tenant = tenant
        self.adminKeyHash = adminKey.flatMap { $0.isEmpty ? nil : Self.hash($0) }
        self.mode = mode
        self.cacheTTL = cacheTTL
        self.required = Atomic(mode == .required || (mode == .auto && adminKey.map { !$0.isEmpty } == true))
    }

    /// Whether requests must carry a key now.
    public var isRequired: Bool { mode != .disabled && required.load(ordering: .relaxed) }

    /// Under `auto`: keys become required once one exists (checked at start and periodically).
    public func refreshRequirement() async {
        guard mode == .auto, !required.load(ordering: .relaxed) else { return }
        if let keys = try? await store.list(tenant: tenant), keys.contains(where: { $0.revokedAt == nil }) {
            required.store(true, ordering: .relaxed)
        }
    }

    /// The SHA-256 of a key, in hex: what the store holds.
    public static func hash(_ key: String) -> String {
        var key = key
        let digest = key.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return String(unsafeUninitializedCapacity: 64) { out in
            var i = 0
            for byte in digest {
                out[i] = hexDigits[Int(byte >> 4)]
                out[i + 1] = hexDigits[Int(byte & 0x0f)]
                i += 2
            }
            return i
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// A new random key (`hk-` and 48 hex digits) and its record; the key itself is shown once.
    public static func issue(
        tenant: String, name: String, budgetUSD: Double?, requestsPerMinute: Int?, tokensPerMinute: Int?
    ) -> (secret: String, record: VirtualKey) {
        var rng = SystemRandomNumberGenerator()
        var secret = "hk-"
        for _ in 0..<24 { secret += String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }
        let id = "key_" + String(secret.dropFirst(3).prefix(12))
        let record = VirtualKey(
            id: id, tenant: tenant, name: name, keyHash: hash(secret), displayPrefix: String(secret.prefix(10)),
            budgetUSD: budgetUSD, requestsPerMinute: requestsPerMinute, tokensPerMinute: tokensPerMinute
        )
        return (secret, record)
    }

    /// The key in `Authorization: Bearer …` or `x-api-key`.
    public static func presentedKey(authorization: String?, xAPIKey: String?) -> String? {
        if let x = xAPIKey.map({ trimmed(Substring($0)) }), !x.isEmpty { return String(x) }
        guard let auth = authorization.map({ trimmed(Substring($0)) }) else { return nil }
        // "Bearer " in any case, without lowercasing the whole header.
        let scheme = auth.utf8.prefix(7)
        guard scheme.count == 7, scheme.elementsEqual("bearer ".utf8, by: { ($0 | 0x20) == $1 }) else { return nil }
        let token = trimmed(auth[scheme.endIndex...])
        return token.isEmpty ? nil : String(token)
    }

    /// `text` without leading and trailing spaces and tabs (header values' whitespace), found
    /// in its UTF-8 bytes (on every request: no grapheme breaking). The bounds fall on
    /// scalar boundaries: the first non-blank byte starts a scalar, and what follows the last
    /// one is a blank or the end.
    private static func trimmed(_ text: Substring) -> Substring {
        let bytes = text.utf8
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else {
            return text[text.endIndex...]
        }
        return text[first..<bytes.index(after: last)]
    }

    /// Who presented `secret`, checking rate limits and budget for a model request.
    ///
    /// - Throws: ``GatewayError`` 401 for a missing or unknown key, 429 when the key is over
    ///   its request or token rate or its budget.
    public func authenticate(_ secret: String?, forModelRequest: Bool = true) async throws -> Principal {
        guard isRequired else {
            if let secret, let adminKeyHash, Self.hash(secret) == adminKeyHash { return .admin }
            return .anonymous
        }
        guard let secret else {
            throw GatewayError(.authentication, code: "missing_api_key", "no API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'")
        }
        let hash = Self.hash(secret)
        if let adminKeyHash, Self.constantTimeEqual(hash, adminKeyHash) { return .admin }
        guard let key = try await lookup(hash: hash), key.revokedAt == nil else {
            throw GatewayError(.authentication, code: "invalid_api_key", "the API key is not valid (unknown or revoked)")
        }
        if forModelRequest {
            try admitRate(key)
            try await checkBudget(key)
        }
        return .key(key)
    }

    /// Who presented `secret` when the caches can tell without waiting, with the rate limit
    /// admitted; nil when a store must be asked or the request would be refused (the full
    /// path then answers it).
    func cachedPrincipal(_ secret: String?) -> Principal? {
        cachedPrincipal(hash: secret.map(Self.hash))
    }

    /// The same, for a key whose ``hash(_:)`` the caller has (a connection that presents the
    /// same key on each request hashes it once).
    func cachedPrincipal(hash: String?) -> Principal? {
        guard isRequired else {
            if let hash, let adminKeyHash, hash == adminKeyHash { return .admin }
            return .anonymous
        }
        guard let hash else { return nil }
        if let adminKeyHash, Self.constantTimeEqual(hash, adminKeyHash) { return .admin }
        let now = clock.now
        guard let hit = cache.withLock({ $0[hash] }), now - hit.fetched < cacheTTL, let key = hit.key, key.revokedAt == nil else {
            return nil
        }
        if let budget = key.budgetUSD {
            guard let s = spend.withLock({ $0[key.id] }), now - s.fetched < cacheTTL, s.usd < budget else { return nil }
        }
        guard (try? admitRate(key)) != nil else { return nil }
        return .key(key)
    }

    func lookup(hash: String) async throws -> VirtualKey? {
        let now = clock.now
        if let hit = cache.withLock({ $0[hash] }), now - hit.fetched < cacheTTL { return hit.key }
        let key = try await store.find(hash: hash)
        let found = key?.tenant == tenant ? key : nil
        cache.withLock { $0[hash] = CachedKey(key: found, fetched: now) }
        return found
    }

    /// Forgets cached lookups (after a revocation on this instance).
    public func invalidate() {
        cache.withLock { $0.removeAll() }
    }

    /// Marks keys required (after the first key is created, under `auto`).
    func keysExist() {
        if mode == .auto { required.store(true, ordering: .relaxed) }
    }

    func admitRate(_ key: VirtualKey) throws {
        guard key.requestsPerMinute != nil || key.tokensPerMinute != nil else { return }
        let now = clock.now
        let verdict: Duration? = limits.withLock { table in
            var l = table[key.id] ?? Limits(
                requestTokens: Double(key.requestsPerMinute ?? 0), tokenTokens: Double(key.tokensPerMinute ?? 0), updated: now
            )
            let elapsed = Double((now - l.updated).components.seconds) + Double((now - l.updated).components.attoseconds) / 1e18
            l.updated = now
            var wait: Duration? = nil
            if let rpm = key.requestsPerMinute {
                l.requestTokens = min(Double(rpm), l.requestTokens + elapsed * Double(rpm) / 60)
                if l.requestTokens < 1 {
                    wait = .milliseconds(Int64(((1 - l.requestTokens) * 60 / Double(max(rpm, 1)) * 1000).rounded(.up)))
                }
            }
            if let tpm = key.tokensPerMinute {
                l.tokenTokens = min(Double(tpm), l.tokenTokens + elapsed * Double(tpm) / 60)
                if l.tokenTokens <= 0 {
                    let w = Duration.milliseconds(Int64(((1 - l.tokenTokens) * 60 / Double(max(tpm, 1)) * 1000).rounded(.up)))
                    wait = max(wait ?? .zero, w)
                }
            }
            if wait == nil, key.requestsPerMinute != nil { l.requestTokens -= 1 }
            table[key.id] = l
            return wait
        }
        if let verdict {
            throw GatewayError(
                .rateLimited, code: "rate_limit_exceeded",
                "the API key '\(key.name)' is over its rate limit (\(key.requestsPerMinute.map { "\($0) requests" } ?? "")\(key.requestsPerMinute != nil && key.tokensPerMinute != nil ? ", " : "")\(key.tokensPerMinute.map { "\($0) tokens" } ?? "") per minute)",
                retryAfter: verdict
            )
        }
    }

    /// Gives back the request a key was admitted for and did not make (the relay handed it
    /// to the full path, which admits it again).
    func refundRequest(_ key: VirtualKey) {
        guard let rpm = key.requestsPerMinute else { return }
        limits.withLock { table in
            if let l = table[key.id]?.requestTokens { table[key.id]?.requestTokens = min(Double(rpm), l + 1) }
        }
    }

    /// Counts tokens a key used against its tokens-per-minute bucket.
    func consumeTokens(_ key: VirtualKey, _ tokens: Int) {
        guard key.tokensPerMinute != nil, tokens > 0 else { return }
        limits.withLock { table in table[key.id]?.tokenTokens -= Double(tokens) }
    }

    func checkBudget(_ key: VirtualKey) async throws {
        guard let budget = key.budgetUSD else { return }
        let spent = try await spent(key)
        if spent >= budget {
            throw GatewayError(
                .budgetExceeded, code: "budget_exceeded",
                "the API key '\(key.name)' has spent its budget ($\(String(format: "%.4f", spent)) of $\(String(format: "%.2f", budget)))",
                shouldRetry: false
            )
        }
    }

    /// What `key` has spent, in USD.
    public func spent(_ key: VirtualKey) async throws -> Double {
        let now = clock.now
        if let s = spend.withLock({ $0[key.id] }), now - s.fetched < cacheTTL { return s.usd }
        let total = try await ledger.totalCost(tenant: tenant, apiKeyID: key.id, since: nil)
        spend.withLock { table in
            // Keep the larger: records this instance added may not be written yet.
            let local = table[key.id]?.usd ?? 0
            table[key.id] = Spend(usd: max(total, local), fetched: now)
        }
        return max(total, spend.withLock { $0[key.id]?.usd ?? total })
    }

    /// Adds a served request's cost to the key's spend.
    func charge(_ keyID: String, _ usd: Double) {
        guard usd > 0 else { return }
        spend.withLock { table in
            if var s = table[keyID] {
                s.usd += usd
                table[keyID] = s
            }
        }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
