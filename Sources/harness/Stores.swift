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
import HarnessCore
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
}
