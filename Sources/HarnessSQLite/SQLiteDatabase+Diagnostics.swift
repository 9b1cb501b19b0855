//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import GRDB
import HarnessCore

extension SQLiteDatabase {
    /// Runs SQLite's full integrity check; returns the problems it finds, none when the
    /// file is sound.
    public func checkIntegrity() async throws -> [String] {
        let report = try await strings("PRAGMA integrity_check")
        return report == ["ok"] ? [] : report
    }

    /// The first column of every row of `sql`, as text, run on the writer connection
    /// outside a transaction (so that `PRAGMA`s report the writer's settings). For tests
    /// and diagnostics.
    func strings(_ sql: String, arguments: [String] = []) async throws -> [String] {
        do {
            return try await writer.writeWithoutTransaction { db in
                try String.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
            }
        } catch {
            throw Self.storageError(error, "running a diagnostic query")
        }
    }

    /// Runs `sql` in a write transaction. For tests.
    func execute(_ sql: String, arguments: [String] = []) async throws {
        try await write("running a statement") { db in
            try db.execute(sql: sql, arguments: StatementArguments(arguments))
        }
    }

    /// The database at `path` opened as it is, without checking or applying migrations.
    /// For tests.
    static func unmigrated(path: String, configuration: Configuration = Configuration()) throws -> SQLiteDatabase {
        do {
            return SQLiteDatabase(writer: try DatabasePool(path: path, configuration: configuration.grdbConfiguration), path: path)
        } catch {
            throw storageError(error, "opening the database at \(path)")
        }
    }
}
