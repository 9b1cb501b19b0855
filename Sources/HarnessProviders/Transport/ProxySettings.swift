//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Which HTTP proxy a request goes through, read from the usual environment variables:
/// `HTTPS_PROXY` for `https` URLs, `HTTP_PROXY` for `http` ones (either in lower case too),
/// and `NO_PROXY`, a comma-separated list of hosts, domain suffixes (`.example.com` or
/// `example.com`), or `*`, that go direct. Loopback addresses go direct unless listed
/// nowhere — as curl does, `localhost` and `127.0.0.1` bypass only when in `NO_PROXY`.
public struct ProxySettings: Sendable, Hashable {
    /// A proxy's address.
    public struct Endpoint: Sendable, Hashable {
        public var host: String
        public var port: Int
        /// `user:password` from the proxy URL, sent as Basic authorization.
        public var credentials: String?

        public init(host: String, port: Int, credentials: String? = nil) {
            self.host = host
            self.port = port
            self.credentials = credentials
        }
    }

    public var http: Endpoint?
    public var https: Endpoint?
    public var noProxy: [String]

    public init(http: Endpoint? = nil, https: Endpoint? = nil, noProxy: [String] = []) {
        self.http = http
        self.https = https
        self.noProxy = noProxy
    }

    /// No proxy.
    public static let none = ProxySettings()

    /// The settings the environment gives.
    public init(environment: [String: String]) {
        func value(_ name: String) -> String? {
            let v = environment[name] ?? environment[name.lowercased()]
            return v.flatMap { $0.isEmpty ? nil : $0 }
        }
        http = value("HTTP_PROXY").flatMap(Self.endpoint)
        https = value("HTTPS_PROXY").flatMap(Self.endpoint) ?? value("ALL_PROXY").flatMap(Self.endpoint)
        if http == nil { http = value("ALL_PROXY").flatMap(Self.endpoint) }
        noProxy = (value("NO_PROXY") ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }.filter { !$0.isEmpty }
    }

    /// The proxy for a URL of this scheme and host, or nil to go direct.
    public func proxy(scheme: String, host: String) -> Endpoint? {
        let host = host.lowercased()
        for entry in noProxy {
            if entry == "*" { return nil }
            let bare = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            let hostOnly = bare.split(separator: ":").first.map(String.init) ?? bare
            if host == hostOnly || host.hasSuffix("." + hostOnly) { return nil }
        }
        return scheme.lowercased() == "https" ? https : http
    }

    static func endpoint(_ url: String) -> Endpoint? {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var credentials: String?
        if let at = rest.lastIndex(of: "@") {
            credentials = String(rest[..<at]).removingPercentEncoding
            rest = rest[rest.index(after: at)...]
        }
        var host = String(rest)
        var port = 80
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let p = Int(rest[rest.index(after: colon)...]) else { return nil }
            port = p
            host = String(rest[..<colon])
        }
        host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty else { return nil }
        return Endpoint(host: host, port: port, credentials: credentials)
    }
}

import Foundation
