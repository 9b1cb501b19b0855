//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore

/// Small helpers the wire formats share.
enum WireJSON {
    /// Parses one streamed payload, or throws an `invalidResponse` error that names the
    /// provider and the offending text (shortened).
    static func parse(_ text: String, provider: String, requestID: String?, what: String) throws -> JSONValue {
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw ProviderError(
                .invalidResponse,
                provider: provider,
                message: "\(what) is not valid JSON (\(error)): \(text.prefix(200))",
                requestID: requestID
            )
        }
    }

    static func parse(bytes: [UInt8], provider: String, requestID: String?, what: String) throws -> JSONValue {
        do {
            return try JSONValue(parsingBytes: bytes)
        } catch {
            throw ProviderError(
                .invalidResponse,
                provider: provider,
                message: "\(what) is not valid JSON (\(error)): \(String(decoding: bytes.prefix(200), as: UTF8.self))",
                requestID: requestID
            )
        }
    }

    /// A data URL for inline image bytes.
    static func dataURL(_ image: ImageContent) -> String? {
        if let url = image.url { return url }
        guard let data = image.base64Data else { return nil }
        return "data:\(image.mediaType ?? "image/png");base64,\(data)"
    }

    /// Joins a base URL and a path with exactly one slash.
    static func join(_ base: String, _ path: String) -> String {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        return path.hasPrefix("/") ? base + path : base + "/" + path
    }

    /// An error for a response that lacks what it must carry.
    static func missing(_ what: String, provider: String, requestID: String?) -> ProviderError {
        ProviderError(.invalidResponse, provider: provider, message: "the response has no \(what)", requestID: requestID)
    }

    /// An error for a stream that ended before its final event.
    static func truncated(_ final: String, provider: String, requestID: String?) -> ProviderError {
        ProviderError(
            .invalidResponse,
            provider: provider,
            message: "the stream ended before its final event (\(final)); the answer is incomplete",
            requestID: requestID
        )
    }
}
