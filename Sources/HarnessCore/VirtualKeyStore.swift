//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import struct Foundation.Date

/// A gateway API key. Only the key's SHA-256 hash is stored, never the key.
public struct VirtualKey: Sendable, Hashable, Codable {
    public var id: String
    public var tenant: String
    public var name: String
    /// Hex SHA-256 of the secret key.
    public var keyHash: String
    /// The first characters of the key, for people to recognise it (`hk-abc1…`).
    public var displayPrefix: String
    public var budgetUSD: Double?
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    public var createdAt: Date
    public var revokedAt: Date?

    public init(
        id: String, tenant: String, name: String, keyHash: String, displayPrefix: String, budgetUSD: Double? = nil,
        requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, createdAt: Date = Date(), revokedAt: Date? = nil
    ) {
        self.id = id
        self.tenant = tenant
        self.name = name
        self.keyHash = keyHash
        self.displayPrefix = displayPrefix
        self.budgetUSD = budgetUSD
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// Gateway keys, stored by hash.
///
/// ## Implementation requirements
/// - `create` fails (throws) if the id or the hash already exists.
/// - `find(hash:)` returns revoked keys too (the caller refuses them); it is the one lookup
///   across tenants, since a request names no tenant before it is authenticated.
public protocol VirtualKeyStore: Sendable {
    func create(_ key: VirtualKey) async throws
    func find(hash: String) async throws -> VirtualKey?
    func list(tenant: String) async throws -> [VirtualKey]
    /// Marks the key revoked; returns whether it existed (in this tenant) and was active.
    @discardableResult
    func revoke(id: String, tenant: String, at date: Date) async throws -> Bool
}
