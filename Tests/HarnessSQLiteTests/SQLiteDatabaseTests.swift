//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HarnessCore
@testable import HarnessSQLite
import Testing

@Suite struct SQLiteDatabaseTests {
    @Test func openingCreatesDirectoriesAndSetsDurableWALMode() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("a/b/c/harness.sqlite")
        let database = try SQLiteDatabase(path: path)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(database.path == path)
        #expect(try await database.strings("PRAGMA journal_mode") == ["wal"])
        #expect(try await database.strings("PRAGMA synchronous") == ["2"])  // FULL
        #expect(try await database.strings("PRAGMA fullfsync") == ["1"])
        #expect(try await database.strings("PRAGMA foreign_keys") == ["1"])
        #expect(try await database.strings("PRAGMA busy_timeout") == ["5000"])
        #expect(try await database.checkIntegrity().isEmpty)

        let relaxed = try SQLiteDatabase(
            path: directory.path("relaxed.sqlite"),
            configuration: .init(synchronous: .normal, busyTimeout: .milliseconds(250))
        )
        #expect(try await relaxed.strings("PRAGMA synchronous") == ["1"])
        #expect(try await relaxed.strings("PRAGMA fullfsync") == ["0"])
        #expect(try await relaxed.strings("PRAGMA busy_timeout") == ["250"])
    }

    @Test func theDefaultPathIsUnderDotHarness() {
        #expect(SQLiteDatabase.defaultPath == ".harness/harness.sqlite")
    }

    @Test func migrationsAreRecordedAndOpeningTwiceIsFine() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("harness.sqlite")
        let first = try SQLiteDatabase(path: path)
        let store = SQLiteConversationStore(database: first)
        try await store.append(Turn(message: .user("kept")), to: "c", tenant: "t")
        #expect(try await first.strings("SELECT identifier FROM grdb_migrations ORDER BY identifier")
            == SQLiteDatabase.migrationIdentifiers)

        // A second pool on the same file while the first is open, then a third after.
        let second = try SQLiteDatabase(path: path)
        #expect(try await SQLiteConversationStore(database: second).load(conversationID: "c", tenant: "t", last: nil)
            .map(\.message.text) == ["kept"])
        let third = try SQLiteDatabase(path: path)
        #expect(try await third.strings("SELECT identifier FROM grdb_migrations ORDER BY identifier")
            == SQLiteDatabase.migrationIdentifiers)
        #expect(try await SQLiteConversationStore(database: third).load(conversationID: "c", tenant: "t", last: nil).count == 1)
    }

    @Test func aDatabaseFromANewerHarnessIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("harness.sqlite")
        do {
            let database = try SQLiteDatabase(path: path)
            try await database.execute("INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: ["v999"])
        }
        let error = #expect(throws: HarnessError.self) { try SQLiteDatabase(path: path) }
        #expect(error?.code == .storage)
        #expect(error?.message == "the database at \(path) was written by a newer Harness (unknown migration 'v999')")
        // Nothing was changed by the refused open.
        let identifiers = try await SQLiteDatabase.identifiersWithoutMigrating(path)
        #expect(identifiers == (SQLiteDatabase.migrationIdentifiers + ["v999"]).sorted())
    }

    @Test func everyTableButTheCacheHasATenantColumn() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try directory.newDatabase()
        let tables = try await database.strings(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        #expect(Set(tables).isSuperset(of: ["conversations", "turns", "turn_metadata", "usage_records", "virtual_keys", "jobs", "cache"]))
        for table in tables where table != "cache" && table != "grdb_migrations" {
            let columns = try await database.strings("SELECT name FROM pragma_table_info(?)", arguments: [table])
            #expect(columns.contains("tenant"), "table '\(table)' has no tenant column: \(columns)")
        }
        let cacheColumns = try await database.strings("SELECT name FROM pragma_table_info('cache')")
        #expect(cacheColumns == ["key", "value", "expires_at"])
    }

    @Test func anUnopenableFileIsAStorageError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("not-a-database.sqlite")
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: HarnessError.self) { try SQLiteDatabase(path: path) }
        #expect(error?.code == .storage)
    }
}

extension SQLiteDatabase {
    /// The migration identifiers recorded in the file at `path`, read without migrating.
    static func identifiersWithoutMigrating(_ path: String) async throws -> [String] {
        let raw = try SQLiteDatabase.unmigrated(path: path)
        return try await raw.strings("SELECT identifier FROM grdb_migrations ORDER BY identifier")
    }
}
