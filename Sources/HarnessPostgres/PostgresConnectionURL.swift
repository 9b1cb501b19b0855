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
import PostgresNIO

/// A parsed `postgres://user[:password]@host[:port]/database?param=value` URL.
///
/// Query parameters understood: `sslmode` (`disable`, `allow`, `prefer`, `require`, `verify-ca`,
/// `verify-full`; TLS is off when absent), `schema` (the schema holding Harness's tables),
/// `host` (a directory holding the server's Unix socket, as libpq reads it) and
/// `application_name`. Any other parameter is refused, so a typo does not pass silently.
///
/// Error messages never repeat the URL: it may carry a password.
struct PostgresConnectionURL: Sendable, Equatable {
    enum TLSMode: String, Sendable, Equatable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    var host: String
    var port: Int
    /// Set when the URL names a socket directory (`?host=/run/postgresql`).
    var unixSocketPath: String?
    var username: String
    var password: String?
    var database: String?
    var tlsMode: TLSMode
    var schema: String?
    var applicationName: String?

    init(_ string: String) throws {
        guard let components = URLComponents(string: string) else {
            throw HarnessError(.invalidConfiguration, "the PostgreSQL URL is not a valid URL")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw HarnessError(.invalidConfiguration, "a PostgreSQL URL starts with postgres:// or postgresql://")
        }
        guard let user = components.user, !user.isEmpty else {
            throw HarnessError(.invalidConfiguration, "the PostgreSQL URL names no user (postgres://user@host/db)")
        }
        username = user
        password = components.password
        var host = components.host ?? ""
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "127.0.0.1" : host
        port = components.port ?? 5432
        guard (1...65_535).contains(port) else {
            throw HarnessError(.invalidConfiguration, "the PostgreSQL URL's port \(port) is out of range")
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path
        tlsMode = .disable

        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw HarnessError(.invalidConfiguration, "unknown sslmode '\(value)' in the PostgreSQL URL")
                }
                tlsMode = mode
            case "schema":
                schema = try Self.validatedSchemaName(value)
            case "host":
                guard value.hasPrefix("/") else {
                    throw HarnessError(
                        .invalidConfiguration, "the PostgreSQL URL's host parameter must be a socket directory"
                    )
                }
                unixSocketPath = value.hasSuffix("/") ? "\(value).s.PGSQL.\(port)" : "\(value)/.s.PGSQL.\(port)"
            case "application_name":
                applicationName = value
            default:
                throw HarnessError(.invalidConfiguration, "unknown parameter '\(item.name)' in the PostgreSQL URL")
            }
        }
    }

    /// Schema names are spliced into SQL (quoted), so only plain identifiers are accepted.
    static func validatedSchemaName(_ name: String) throws -> String {
        let allowed = name.utf8.allSatisfy { c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                || c == UInt8(ascii: "_")
        }
        guard !name.isEmpty, name.utf8.count <= 63, allowed, let first = name.utf8.first,
              !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
        else {
            throw HarnessError(
                .invalidConfiguration,
                "schema name '\(name)' must be 1 to 63 characters of a-z, 0-9 and _, not starting with a digit"
            )
        }
        return name
    }
}

// MARK: - PostgresNIO configurations

extension PostgresConnectionURL {
    /// The pool's configuration.
    func clientConfiguration(maximumConnections: Int) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let unixSocketPath {
            configuration = PostgresClient.Configuration(
                unixSocketPath: unixSocketPath, username: username, password: password, database: database
            )
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch (tlsConfiguration, tlsMode) {
            case (nil, _): tls = .disable
            case (let config?, .prefer): tls = .prefer(config)
            case (let config?, _): tls = .require(config)
            }
            configuration = PostgresClient.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: tls
            )
        }
        configuration.options.maximumConnections = max(1, maximumConnections)
        if let applicationName {
            configuration.options.additionalStartupParameters.append(("application_name", applicationName))
        }
        return configuration
    }

    /// The configuration of one connection outside the pool.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let unixSocketPath {
            configuration = PostgresConnection.Configuration(
                unixSocketPath: unixSocketPath, username: username, password: password, database: database
            )
        } else {
            var tls = PostgresConnection.Configuration.TLS.disable
            if let config = tlsConfiguration {
                do {
                    let context = try NIOSSLContext(configuration: config)
                    tls = tlsMode == .prefer ? .prefer(context) : .require(context)
                } catch {
                    throw HarnessError(
                        .invalidConfiguration, "TLS for PostgreSQL could not be set up: \(type(of: error))"
                    )
                }
            }
            configuration = PostgresConnection.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: tls
            )
        }
        if let applicationName {
            configuration.options.additionalStartupParameters.append(("application_name", applicationName))
        }
        return configuration
    }

    /// TLS settings for the mode, or `nil` for none. `prefer` and `require` encrypt without
    /// checking the certificate, as libpq does; `verify-ca` checks it against the system's
    /// roots; `verify-full` checks the host name too.
    private var tlsConfiguration: TLSConfiguration? {
        var config = TLSConfiguration.makeClientConfiguration()
        switch tlsMode {
        case .disable, .allow:
            return nil
        case .prefer, .require:
            config.certificateVerification = .none
        case .verifyCA:
            config.certificateVerification = .noHostnameVerification
        case .verifyFull:
            break
        }
        return config
    }
}
