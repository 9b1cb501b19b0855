//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// One problem found in a configuration: what, and where (file, line, key or variable).
public struct ConfigDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// The file, or `environment`.
    public var source: String
    /// The line in the file (from 1), when known.
    public var line: Int?
    /// The dotted key (`cache.capacity`) or the environment variable.
    public var key: String?
    public var message: String

    public init(source: String, line: Int? = nil, key: String? = nil, message: String) {
        self.source = source
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var where_ = source
        if let line { where_ += ":\(line)" }
        if let key { return "\(where_): '\(key)': \(message)" }
        return "\(where_): \(message)"
    }
}

/// A configuration that cannot be used, with every problem found (not only the first).
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [ConfigDiagnostic]

    public init(_ diagnostics: [ConfigDiagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        let n = diagnostics.count
        return "invalid configuration (\(n) problem\(n == 1 ? "" : "s")):\n"
            + diagnostics.map { "  - \($0)" }.joined(separator: "\n")
    }
}
