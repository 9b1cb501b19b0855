//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
@testable import HarnessSQLite

/// A directory of its own under the system's temporary directory, for a test's database
/// files; `remove()` deletes it and everything in it.
struct TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("harness-sqlite-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The path of `name` in the directory.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// A fresh database file in the directory.
    func newDatabase(configuration: SQLiteDatabase.Configuration = .init()) throws -> SQLiteDatabase {
        try SQLiteDatabase(path: path("db-\(UUID().uuidString)/harness.sqlite"), configuration: configuration)
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}
