//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Removes credentials from text before it reaches an error, a log or a trace.
///
/// Providers do not echo keys back in error bodies, but proxies and misconfigured servers
/// sometimes do ("Incorrect API key provided: sk-abc…"); this catches the common shapes:
/// OpenAI-style `sk-…` keys, Anthropic `sk-ant-…`, Google `AIza…`, AWS access key ids,
/// and whatever follows `Bearer `.
public enum Redaction {
    /// `text` with anything that looks like a credential replaced by `[redacted]`.
    public static func scrub(_ text: String) -> String {
        var bytes = Array(text.utf8)
        guard mightContainSecret(bytes) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if let end = secretEnd(in: bytes, at: i) {
                out.append(contentsOf: Array("[redacted]".utf8))
                i = end
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        bytes = out
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Removes `secret` itself (a configured key) wherever it occurs, then the common shapes.
    public static func scrub(_ text: String, removing secrets: [String]) -> String {
        var text = text
        for secret in secrets where secret.count >= 4 {
            text = text.replacingAll(secret, with: "[redacted]")
        }
        return scrub(text)
    }

    /// Whether a metadata key or header name carries a credential whatever its value looks
    /// like (`Authorization`, `x-api-key`, `api_key`, cookies, passwords…); compared without case.
    public static func isSensitiveKey(_ key: String) -> Bool {
        let lower = key.lowercased()
        if sensitiveKeys.contains(lower) { return true }
        // `http.request.header.authorization`, `request.headers.x-api-key` and the like.
        if let last = lower.split(whereSeparator: { $0 == "." }).last, last.count < lower.count {
            return sensitiveKeys.contains(String(last))
        }
        return false
    }

    static let sensitiveKeys: Set<String> = [
        "authorization", "proxy-authorization", "x-api-key", "api_key", "api-key", "apikey", "x-goog-api-key",
        "cookie", "set-cookie", "password", "secret", "client_secret", "access_token", "refresh_token",
        "x-amz-security-token", "aws_secret_access_key", "aws_session_token",
    ]

    private static let prefixes: [[UInt8]] = ["sk-", "AIza", "AKIA", "ASIA", "Bearer ", "bearer "].map { Array($0.utf8) }

    private static func mightContainSecret(_ bytes: [UInt8]) -> Bool {
        for i in bytes.indices where bytes[i] == UInt8(ascii: "s") || bytes[i] == UInt8(ascii: "A")
            || bytes[i] == UInt8(ascii: "B") || bytes[i] == UInt8(ascii: "b")
        {
            if secretEnd(in: bytes, at: i) != nil { return true }
        }
        return false
    }

    /// If a secret starts at `i` (a known prefix, at a word boundary, followed by at least
    /// 8 key characters), the index just past it.
    private static func secretEnd(in bytes: [UInt8], at i: Int) -> Int? {
        // A word boundary: not inside a word (`ask-…`, `TASK…`); `key=sk-…` and `"sk-…` match.
        if i > 0, isWordByte(bytes[i - 1]) { return nil }
        for prefix in prefixes where bytes.count - i >= prefix.count + 8 {
            var matches = true
            for (k, b) in prefix.enumerated() where bytes[i + k] != b {
                matches = false
                break
            }
            guard matches else { continue }
            var end = i + prefix.count
            while end < bytes.count, isKeyByte(bytes[end]) { end += 1 }
            if end - (i + prefix.count) >= 8 { return end }
        }
        return nil
    }

    private static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
    }

    private static func isKeyByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")
            || b == UInt8(ascii: "/") || b == UInt8(ascii: "+") || b == UInt8(ascii: "=")
    }
}

extension String {
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
