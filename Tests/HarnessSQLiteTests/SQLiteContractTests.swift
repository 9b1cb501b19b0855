//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import HarnessCore
import HarnessSQLite
import HarnessTesting
import Testing

/// The ports' contract suites, each check on a fresh database file.
@Suite struct SQLiteContractTests {
    @Test func conversationStore() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await ConversationStoreContract.run { SQLiteConversationStore(database: try directory.newDatabase()) }
    }

    @Test func cache() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await CacheContract.run { SQLiteCache(database: try directory.newDatabase()) }
    }

    @Test func usageLedger() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await UsageLedgerContract.run { SQLiteUsageLedger(database: try directory.newDatabase()) }
    }

    @Test func virtualKeyStore() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await VirtualKeyStoreContract.run { SQLiteVirtualKeyStore(database: try directory.newDatabase()) }
    }

    @Test func jobStore() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await JobStoreContract.run { SQLiteJobStore(database: try directory.newDatabase()) }
    }

    @Test func inMemoryDatabaseKeepsTheContractsToo() async throws {
        try await ConversationStoreContract.run { SQLiteConversationStore(database: try .inMemory()) }
        try await JobStoreContract.run { SQLiteJobStore(database: try .inMemory()) }
        try await UsageLedgerContract.run { SQLiteUsageLedger(database: try .inMemory()) }
    }
}
