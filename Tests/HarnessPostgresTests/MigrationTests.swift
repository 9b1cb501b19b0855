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
import HarnessPostgres
import Testing

@Suite("PostgreSQL migrations and configuration")
struct MigrationTests {
    /// A database migrated by a newer Harness (version 999) is refused, before any store runs.
    @Test func refusesANewerDatabase() async throws {
        try await TestPostgres.withFreshDatabase { database, url in
            try await database.execute(
                unsafeSQL: "INSERT INTO harness_migrations (version, name) VALUES (999, 'from the future')"
            )
            do {
                try await PostgresDatabase.withDatabase(url: url) { _ in }
                Issue.record("a database at version 999 was opened")
            } catch let error as HarnessError {
                #expect(error.code == .storage)
                #expect(
                    error.message.hasPrefix("the database was migrated by a newer Harness (version 999 > "),
                    "\(error.message)"
                )
            }
            // The refusal changed nothing: version 999 is still the newest.
            #expect(try await database.integer(unsafeSQL: "SELECT max(version) FROM harness_migrations") == 999)
        }
    }

    /// Instances starting together apply each migration once; reopening keeps the data.
    @Test func concurrentStartsMigrateOnce() async throws {
        try await TestPostgres.withFreshDatabase { database, url in
            let schemaURL = try TestPostgres.url(url, adding: [URLQueryItem(name: "schema", value: "together")])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<6 {
                    group.addTask {
                        try await PostgresDatabase.withDatabase(url: schemaURL, maximumConnections: 2) { db in
                            _ = try await PostgresConversationStore(database: db)
                                .append(Turn(message: .user("hello \(i)")), to: "c", tenant: "t")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let versions = try await database.integer(unsafeSQL: "SELECT count(*) FROM together.harness_migrations")
            let distinct = try await database.integer(
                unsafeSQL: "SELECT count(DISTINCT version) FROM together.harness_migrations"
            )
            #expect(versions != nil && versions == distinct && (versions ?? 0) >= 1)
            let turns = try await PostgresDatabase.withDatabase(url: schemaURL) { db in
                try await PostgresConversationStore(database: db).load(conversationID: "c", tenant: "t", last: nil)
            }
            #expect(turns.map(\.sequence) == Array(0..<6))
            // Nothing leaked into the default schema beyond the fresh database's own migration.
            #expect(try await database.integer(unsafeSQL: "SELECT count(*) FROM harness_conversations") == 0)
        }
    }

    /// An application role with rights on the rows but none to create tables can open a
    /// database that is up to date (migrations are then run by a deployment role).
    @Test func upToDateDatabaseNeedsNoDDLRights() async throws {
        try await TestPostgres.withFreshDatabase { database, url in
            let role = TestPostgres.uniqueName("app")
            try await database.execute(unsafeSQL: "CREATE ROLE \(role) LOGIN")
            do {
                try await database.execute(unsafeSQL: "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
                try await database.execute(unsafeSQL: "GRANT USAGE ON SCHEMA public TO \(role)")
                try await database.execute(
                    unsafeSQL: "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(role)"
                )
                var components = try #require(URLComponents(string: url))
                components.user = role
                let turns = try await PostgresDatabase.withDatabase(url: try #require(components.string)) { db in
                    let store = PostgresConversationStore(database: db)
                    try await store.append(Turn(message: .user("hi")), to: "c", tenant: "t")
                    return try await store.load(conversationID: "c", tenant: "t", last: nil)
                }
                #expect(turns.map(\.message.text) == ["hi"])
            } catch {
                try? await database.execute(unsafeSQL: "DROP OWNED BY \(role)")
                try? await database.execute(unsafeSQL: "DROP ROLE \(role)")
                throw error
            }
            try await database.execute(unsafeSQL: "DROP OWNED BY \(role)")
            try await database.execute(unsafeSQL: "DROP ROLE \(role)")
        }
    }

    /// Bad URLs are refused as configuration errors that never repeat the password.
    @Test func urlErrorsHideThePassword() throws {
        for url in [
            "postgres://user:s3cr3t@127.0.0.1:5432/db?bogus=1",
            "postgres://user:s3cr3t@127.0.0.1:5432/db?sslmode=sometimes",
            "mysql://user:s3cr3t@127.0.0.1/db",
            "postgres://user:s3cr3t@127.0.0.1/db?schema=Bad-Name",
        ] {
            do {
                _ = try PostgresDatabase(url: url)
                Issue.record("accepted \(url)")
            } catch let error as HarnessError {
                #expect(error.code == .invalidConfiguration)
                #expect(!error.message.contains("s3cr3t"), "\(error.message)")
            }
        }
        #expect(throws: Never.self) {
            try PostgresDatabase(url: "postgresql://u:p%40ss@[::1]:6543/db?sslmode=require&schema=ok_1")
        }
    }

    /// An unreachable server, or an unknown user, is a storage error at once (not after the
    /// pool's minute of retries) that never repeats the password.
    @Test(.timeLimit(.minutes(1))) func connectionFailuresFailFast() async throws {
        var unknownUser = try #require(URLComponents(string: try TestPostgres.serverURL()))
        unknownUser.user = "no_such_role"
        unknownUser.password = "s3cr3t"
        for url in ["postgres://user:s3cr3t@127.0.0.1:1/db?sslmode=disable", try #require(unknownUser.string)] {
            let started = ContinuousClock.now
            do {
                try await PostgresDatabase.withDatabase(url: url) { _ in }
                Issue.record("connected with \(url)")
            } catch let error as HarnessError {
                #expect(error.code == .storage)
                #expect(!error.message.contains("s3cr3t"), "\(error.message)")
                #expect(ContinuousClock.now - started < .seconds(15), "\(error.message)")
                print("connection failure: \(error.message)")
            }
        }
    }

    /// A failing statement surfaces as `HarnessError(.storage)` with the server's message.
    @Test func serverErrorsAreStorageErrors() async throws {
        try await TestPostgres.withFreshDatabase { database, _ in
            do {
                try await database.execute(unsafeSQL: "SELECT * FROM no_such_table")
                Issue.record("a query of a missing table succeeded")
            } catch let error as HarnessError {
                #expect(error.code == .storage)
                #expect(error.message.contains("no_such_table") && error.message.contains("42P01"), "\(error.message)")
            }
        }
    }
}
