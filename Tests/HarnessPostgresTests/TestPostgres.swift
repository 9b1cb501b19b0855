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

/// A test could not be set up (no server, no binary): it fails with this message.
struct TestSetupError: Error, CustomStringConvertible {
    var description: String
}

/// The PostgreSQL server the tests use, and fresh databases on it.
enum TestPostgres {
    /// `HARNESS_TEST_POSTGRES_URL`; without it the tests fail (they never skip).
    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["HARNESS_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw TestSetupError(description: """
                HARNESS_TEST_POSTGRES_URL is not set, so the PostgreSQL tests cannot run: run scripts/test.sh, \
                which starts a throwaway PostgreSQL and sets it (or start one with scripts/pg-start.sh and \
                export HARNESS_TEST_POSTGRES_URL=<the URL it prints>)
                """)
        }
        return url
    }

    /// A fresh lowercase identifier: `prefix_` and 16 hex digits.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
    }

    /// `url` with its path (the database) replaced, and `extra` query items added.
    static func url(_ url: String, database: String? = nil, adding extra: [URLQueryItem] = []) throws -> String {
        guard var components = URLComponents(string: url) else {
            throw TestSetupError(description: "HARNESS_TEST_POSTGRES_URL is not a URL")
        }
        if let database { components.path = "/\(database)" }
        if !extra.isEmpty { components.queryItems = (components.queryItems ?? []) + extra }
        guard let string = components.string else { throw TestSetupError(description: "could not build a test URL") }
        return string
    }

    /// Creates a database of its own on the server, runs `body` with it open and migrated (and
    /// its URL), and drops it afterwards, so tests never see each other's rows.
    static func withFreshDatabase<T>(_ body: (PostgresDatabase, String) async throws -> T) async throws -> T {
        let server = try serverURL()
        let name = uniqueName("harness_test")
        let databaseURL = try url(server, database: name)
        return try await PostgresDatabase.withDatabase(url: server, maximumConnections: 1, migrate: false) { admin in
            try await admin.execute(unsafeSQL: "CREATE DATABASE \(name)")
            do {
                let result = try await PostgresDatabase.withDatabase(url: databaseURL) { database in
                    try await body(database, databaseURL)
                }
                try await admin.execute(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                return result
            } catch {
                try? await admin.execute(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                throw error
            }
        }
    }

    /// `database` scoped to a new schema, migrated: an empty set of tables in the same database.
    static func freshSchema(_ database: PostgresDatabase) async throws -> PostgresDatabase {
        let scoped = try database.inSchema(uniqueName("s"))
        try await scoped.migrate()
        return scoped
    }
}
