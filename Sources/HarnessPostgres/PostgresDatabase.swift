//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore
public import PostgresNIO

/// A PostgreSQL database holding Harness's tables: a pooled `PostgresClient` and the schema the
/// tables live in. The stores (``PostgresConversationStore``, ``PostgresUsageLedger``,
/// ``PostgresVirtualKeyStore``, ``PostgresJobStore``, ``PostgresCache``) share one.
///
/// The client only works while ``run()`` runs. Scoped use does it all:
///
/// ```swift
/// try await PostgresDatabase.withDatabase(url: "postgres://harness@db:5432/harness?sslmode=require") { db in
///     let store = PostgresConversationStore(database: db)
///     try await store.append(Turn(message: .user("Hi")), to: "c1", tenant: "acme")
/// }
/// ```
///
/// Long-lived use (a server): run ``run()`` in a task of its own for the life of the process,
/// then call ``migrate()`` once before using the stores.
///
/// - Note: PostgresNIO has a deprecated protocol of the same name; where both modules are
///   imported, write `HarnessPostgres.PostgresDatabase`.
public struct PostgresDatabase: Sendable {
    /// The connection pool. Use it for your own queries; it runs while ``run()`` runs.
    public let client: PostgresClient
    /// The schema of Harness's tables, or `nil` for the connection's `search_path`.
    public let schema: String?
    let logger: Logger
    /// For one direct connection before migrating (see ``migrate()``).
    let probeConfiguration: PostgresConnection.Configuration

    /// Creates a database from a URL `postgres://user[:password]@host[:port]/database`.
    ///
    /// Query parameters: `sslmode` (TLS is off unless it is `prefer`, `require`, `verify-ca` or
    /// `verify-full`; `require` encrypts without checking the certificate, as libpq does),
    /// `schema` (see ``inSchema(_:)``), `host` (a Unix socket directory) and `application_name`.
    ///
    /// - Parameters:
    ///   - url: The server's URL. It is never repeated in errors or logs.
    ///   - maximumConnections: The most connections the pool opens.
    ///   - logger: Where PostgresNIO logs its queries and its background work (connections
    ///     opened, failed, closed); `nil`, the default, logs nothing, as PostgresNIO's default.
    /// - Throws: `HarnessError(.invalidConfiguration)` for a URL that cannot be used.
    public init(url: String, maximumConnections: Int = 20, logger: Logger? = nil) throws {
        let parsed = try PostgresConnectionURL(url)
        let configuration = parsed.clientConfiguration(maximumConnections: maximumConnections)
        let client: PostgresClient
        if let logger {
            client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        } else {
            client = PostgresClient(configuration: configuration)
        }
        self.init(
            client: client, schema: parsed.schema, logger: logger ?? Self.quietLogger,
            probeConfiguration: try parsed.connectionConfiguration()
        )
    }

    init(
        client: PostgresClient, schema: String?, logger: Logger, probeConfiguration: PostgresConnection.Configuration
    ) {
        self.client = client
        self.schema = schema
        self.logger = logger
        self.probeConfiguration = probeConfiguration
    }

    /// For queries when no logger is given: PostgresNIO logs them at `debug` and `trace` only.
    private static let quietLogger: Logger = {
        var logger = Logger(label: "harness.postgres")
        logger.logLevel = .critical
        return logger
    }()

    /// The same database and pool, with Harness's tables in `schema` (created by ``migrate()``).
    /// Several schemas let separate deployments, or tests, share one database.
    ///
    /// - Throws: `HarnessError(.invalidConfiguration)` unless the name is 1–63 characters of
    ///   `a-z`, `0-9` and `_`, not starting with a digit.
    public func inSchema(_ schema: String) throws -> PostgresDatabase {
        PostgresDatabase(
            client: client, schema: try PostgresConnectionURL.validatedSchemaName(schema), logger: logger,
            probeConfiguration: probeConfiguration
        )
    }

    /// Runs the connection pool until the task is cancelled. Queries wait for it to run.
    public func run() async {
        await client.run()
    }

    /// Opens the database at `url`, runs its pool, applies migrations, calls `body`, and closes
    /// the pool when `body` returns or throws.
    ///
    /// - Parameters:
    ///   - url: The server's URL; see ``init(url:maximumConnections:logger:)``.
    ///   - maximumConnections: The most connections the pool opens.
    ///   - migrate: Whether to apply migrations (see ``migrate()``) before `body`.
    ///   - logger: Where PostgresNIO logs; `nil` logs nothing.
    ///   - body: The work to do with the database.
    /// - Returns: What `body` returns.
    public static func withDatabase<Result>(
        url: String,
        maximumConnections: Int = 20,
        migrate: Bool = true,
        logger: Logger? = nil,
        _ body: (PostgresDatabase) async throws -> Result
    ) async throws -> Result {
        let database = try PostgresDatabase(url: url, maximumConnections: maximumConnections, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            if migrate { try await database.migrate() }
            return try await body(database)
        }
    }

    /// Brings the schema up to date: creates it if needed and applies every migration not yet
    /// recorded in `harness_migrations`, each in a transaction of its own under an advisory lock,
    /// so instances starting together apply each migration once. Migrations only add.
    ///
    /// It first opens one connection of its own, outside the pool, so that a wrong host, port,
    /// user or password fails at once with the reason (the pool retries for a minute before
    /// failing a query).
    ///
    /// - Throws: `HarnessError(.storage)` if the server cannot be reached, if the database was
    ///   migrated by a newer Harness (it records a version this code does not know), or if
    ///   PostgreSQL fails.
    public func migrate() async throws {
        try await checkConnection()
        try await PostgresMigrator(database: self).migrate()
    }

    /// Connects once, directly, and disconnects.
    func checkConnection() async throws {
        try await perform("connecting to PostgreSQL") {
            let connection = try await PostgresConnection.connect(
                configuration: probeConfiguration, id: 0, logger: logger
            )
            try await connection.close()
        }
    }
}

// MARK: - Internals shared by the stores

extension PostgresDatabase {
    /// `name` qualified with the schema, ready to splice into SQL.
    func table(_ name: String) -> String {
        guard let schema else { return name }
        return "\"\(schema)\".\(name)"
    }

    /// Runs `body`, turning its errors into `HarnessError(.storage)`.
    func perform<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw Self.storageError(operation, error)
        }
    }

    /// Runs `body`, turning its errors into `HarnessError(.storage)`.
    func performSync<T>(_ operation: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw Self.storageError(operation, error)
        }
    }

    /// Runs `body` in a transaction on one pooled connection: committed if it returns,
    /// rolled back if it throws. Errors become `HarnessError(.storage)`.
    func transaction<T: Sendable>(
        _ operation: String, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await body(connection)
            }
        } catch {
            throw Self.storageError(operation, error)
        }
    }

    /// Runs one statement and returns its rows, collected.
    func query(_ operation: String, _ query: PostgresQuery) async throws -> [PostgresRow] {
        try await perform(operation) {
            try await client.query(query, logger: logger).collect()
        }
    }

    /// A `HarnessError(.storage)` for `error`, without secrets: PostgresNIO's own descriptions
    /// are withheld, the server's message and SQLSTATE are kept.
    static func storageError(_ operation: String, _ error: any Error) -> HarnessError {
        switch error {
        case let error as HarnessError:
            return error
        case is CancellationError:
            return HarnessError(.cancelled, "\(operation) was cancelled")
        case let error as PostgresTransactionError:
            if let inner = error.closureError ?? error.commitError ?? error.beginError ?? error.rollbackError {
                return storageError(operation, inner)
            }
            return HarnessError(.storage, "\(operation) failed: the transaction failed")
        case let error as PSQLError:
            if let message = error.serverInfo?[.message] {
                let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return HarnessError(.storage, "\(operation) failed: \(message)\(state)")
            }
            // No server message: a connection or protocol failure. The underlying network or
            // TLS error names no credentials.
            let underlying = error.underlying.map { ": \($0)" } ?? ""
            return HarnessError(.storage, "\(operation) failed: \(error.code)\(underlying)")
        case let error as PostgresDecodingError:
            return HarnessError(
                .storage, "\(operation) failed: a column of type \(error.postgresType) could not be decoded"
            )
        case is DecodingError:
            return HarnessError(.storage, "\(operation) failed: a stored JSON value could not be decoded")
        case _ where String(describing: type(of: error)) == "ConnectionPoolError":
            // PostgresNIO's pool module is not importable here; its error says what happened.
            let description = String(describing: error)
            if description.contains("CircuitBreakerTripped") {
                return HarnessError(
                    .storage, "\(operation) failed: no connection to PostgreSQL could be made for a minute"
                )
            }
            if description.contains("poolShutdown") {
                return HarnessError(
                    .storage, "\(operation) failed: the connection pool is not running (see PostgresDatabase.run())"
                )
            }
            return HarnessError(.cancelled, "\(operation) was cancelled")
        case is EncodingError:
            return HarnessError(.storage, "\(operation) failed: a value could not be encoded as JSON")
        default:
            return HarnessError(.storage, "\(operation) failed: \(type(of: error))")
        }
    }
}

// MARK: - Raw SQL for this package's tests and tools

extension PostgresDatabase {
    /// Runs SQL text (no parameters) and discards any rows. For tests and tools of this package.
    package func execute(unsafeSQL sql: String) async throws {
        _ = try await query("query", PostgresQuery(unsafeSQL: sql))
    }

    /// The first column of the first row of SQL text, as an integer, or `nil` without rows.
    package func integer(unsafeSQL sql: String) async throws -> Int? {
        let rows = try await query("query", PostgresQuery(unsafeSQL: sql))
        guard let row = rows.first else { return nil }
        return try performSync("query") { try row.decode(Int?.self) }
    }
}
