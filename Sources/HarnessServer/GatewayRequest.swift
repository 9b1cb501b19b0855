//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import Prometheus
import CoreMetrics
import HarnessConfig
public import HarnessCore

/// A client's request in the gateway's terms: the provider-neutral request and how to answer.
public struct GatewayRequest: Sendable {
    public var model: ModelRequest
    public var stream: Bool
    /// OpenAI `stream_options.include_usage`.
    public var includeUsage: Bool

    public init(model: ModelRequest, stream: Bool, includeUsage: Bool = false) {
        self.model = model
        self.stream = stream
        self.includeUsage = includeUsage
    }
}

/// Reads fields of a JSON request with errors that name the field's path.
struct FieldReader {
    let value: JSONValue
    let path: String

    init(_ value: JSONValue, path: String) {
        self.value = value
        self.path = path
    }

    func child(_ key: String) -> FieldReader? {
        guard let v = value[key], v != .null else { return nil }
        return FieldReader(v, path: path.isEmpty ? key : "\(path).\(key)")
    }

    func required(_ key: String) throws -> FieldReader {
        guard let c = child(key) else { throw GatewayError.missing(path.isEmpty ? key : "\(path).\(key)") }
        return c
    }

    func string() throws -> String {
        guard case .string(let s) = value else { throw GatewayError.invalid(path, "must be a string") }
        return s
    }

    func int() throws -> Int {
        switch value {
        case .integer(let i): return i
        case .number(let d) where d == d.rounded() && abs(d) < 9e15: return Int(d)
        default: throw GatewayError.invalid(path, "must be an integer")
        }
    }

    func double() throws -> Double {
        guard case .number(let d) = value else {
            if case .integer(let i) = value { return Double(i) }
            throw GatewayError.invalid(path, "must be a number")
        }
        return d
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw GatewayError.invalid(path, "must be true or false") }
        return b
    }

    func array() throws -> [FieldReader] {
        guard case .array(let items) = value else { throw GatewayError.invalid(path, "must be an array") }
        return items.enumerated().map { FieldReader($1, path: "\(path)[\($0)]") }
    }

    func object() throws -> [String: JSONValue] {
        guard case .object(let o) = value else { throw GatewayError.invalid(path, "must be an object") }
        return o
    }

    /// A string, or an array of strings (OpenAI `stop`).
    func strings() throws -> [String] {
        if case .string(let s) = value { return [s] }
        return try array().map { try $0.string() }
    }
}

extension GatewayRequest {
    /// Parses a request body, as JSON, with a clear error when it is not.
    static func parseBody(_ bytes: some Collection<UInt8>) throws -> JSONValue {
        guard !bytes.isEmpty else {
            throw GatewayError(.invalidRequest, code: "invalid_json", "the request body is empty; send a JSON object")
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsingBytes: bytes, maxDepth: 128)
        } catch let error as JSONParseError {
            throw GatewayError(.invalidRequest, code: "invalid_json", "the request body is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .object = json else {
            throw GatewayError(.invalidRequest, code: "invalid_json", "the request body must be a JSON object")
        }
        return json
    }
}
