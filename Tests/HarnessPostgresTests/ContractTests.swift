//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore
import HarnessPostgres
import HarnessTesting
import Testing

/// Every store keeps its port's contract suite, unchanged; each check gets empty tables.
@Suite("PostgreSQL stores keep the port contracts")
struct ContractTests {
    @Test func conversationStore() async throws {
        try await TestPostgres.withFreshDatabase { database, _ in
            try await ConversationStoreContract.run {
                PostgresConversationStore(database: try await TestPostgres.freshSchema(database))
            }
        }
    }

    @Test func cache() async throws {
        try await TestPostgres.withFreshDatabase { database, _ in
            try await CacheContract.run { PostgresCache(database: try await TestPostgres.freshSchema(database)) }
        }
    }

    @Test func usageLedger() async throws {
        try await TestPostgres.withFreshDatabase { database, _ in
            try await UsageLedgerContract.run {
                PostgresUsageLedger(database: try await TestPostgres.freshSchema(database))
            }
        }
    }

    @Test func virtualKeyStore() async throws {
        try await TestPostgres.withFreshDatabase { database, _ in
            try await VirtualKeyStoreContract.run {
                PostgresVirtualKeyStore(database: try await TestPostgres.freshSchema(database))
            }
        }
    }

    @Test func jobStore() async throws {
        try await TestPostgres.withFreshDatabase { database, _ in
            try await JobStoreContract.run { PostgresJobStore(database: try await TestPostgres.freshSchema(database)) }
        }
    }

    /// The stores on the database's default schema (no `inSchema`), as a deployment uses them.
    @Test func defaultSchema() async throws {
        try await TestPostgres.withFreshDatabase { database, _ in
            try await ConversationStoreContract.roundTrip(PostgresConversationStore(database: database))
            try await ConversationStoreContract.concurrentAppends(PostgresConversationStore(database: database))
            try await UsageLedgerContract.run { PostgresUsageLedger(database: database) }
            try await VirtualKeyStoreContract.run { PostgresVirtualKeyStore(database: database) }
            try await JobStoreContract.lifecycle(PostgresJobStore(database: database))
            try await CacheContract.run { PostgresCache(database: database) }
        }
    }
}
