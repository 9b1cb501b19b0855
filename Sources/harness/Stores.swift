//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Harness
import HarnessCore
import HarnessServer
import HarnessPostgres
import HarnessSQLite

/// Opens the store a `storage` location names, for the length of `body`.
enum Stores {
    static func withConversationStore<T>(
        _ location: String,
        _ body: (any ConversationStore) async throws -> T
    ) async throws -> T {
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            return try await PostgresDatabase.withDatabase(url: location) { database in
                try await body(PostgresConversationStore(database: database))
            }
        }
        guard location.hasPrefix("sqlite:") else {
            throw ValidationError("unknown storage '\(location)': use sqlite:PATH or a postgres:// URL")
        }
        let database = try SQLiteDatabase(path: String(location.dropFirst("sqlite:".count)))
        return try await body(SQLiteConversationStore(database: database))
    }

    /// The gateway's stores in `location` (`memory`, `sqlite:PATH` or a `postgres://` URL).
    static func withGatewayStores<T>(
        _ location: String,
        _ body: (GatewayStores) async throws -> T
    ) async throws -> T {
        if location == "memory" { return try await body(.inMemory()) }
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            return try await PostgresDatabase.withDatabase(url: location) { database in
                let keys = PostgresVirtualKeyStore(database: database)
                return try await body(GatewayStores(
                    keys: keys, ledger: PostgresUsageLedger(database: database),
                    conversations: PostgresConversationStore(database: database),
                    check: { _ = try await keys.list(tenant: "__health") }
                ))
            }
        }
        guard location.hasPrefix("sqlite:") else {
            throw ValidationError("unknown storage '\(location)': use memory, sqlite:PATH or a postgres:// URL")
        }
        let database = try SQLiteDatabase(path: String(location.dropFirst("sqlite:".count)))
        let keys = SQLiteVirtualKeyStore(database: database)
        return try await body(GatewayStores(
            keys: keys, ledger: SQLiteUsageLedger(database: database),
            conversations: SQLiteConversationStore(database: database),
            check: { _ = try await keys.list(tenant: "__health") }
        ))
    }
}
