//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import struct Foundation.Data

/// A key-value cache of bytes with expiry.
///
/// ## Implementation requirements
/// - Safe to call concurrently.
/// - An entry past its TTL is never returned.
/// - Keys are opaque strings chosen by the caller (hashes, usually).
public protocol Cache: Sendable {
    /// The value for `key`, if present and not expired.
    func get(_ key: String) async throws -> Data?
    /// Stores `value` under `key`, expiring after `ttl` (never when `nil`).
    func set(_ key: String, value: Data, ttl: Duration?) async throws
    /// Removes `key`.
    func delete(_ key: String) async throws
}
