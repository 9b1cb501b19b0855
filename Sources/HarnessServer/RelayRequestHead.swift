//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The head of an HTTP/1.1 request as ``RelayFront`` reads it from the connection's bytes:
/// where it ends, how long its body is (one `Content-Length`, or none), and whether it is a
/// `POST /v1/chat/completions` the relay may serve (RFC 9112).
///
/// The scan is strict on purpose. It accepts only what it understands completely and calls
/// everything else unsupported, for the HTTP/1 decoder to read from the same bytes: other
/// versions, `Transfer-Encoding`, a repeated or malformed `Content-Length`, `Expect`,
/// `Upgrade`, a `Connection` other than `keep-alive`, obsolete line folding, bare line feeds,
/// control characters, a head longer than ``maxLength``. So the front never frames a request
/// differently from the decoder it hands requests to.
struct RelayRequestHead: Equatable {
    /// Bytes of the head, the empty line that ends it included.
    var length: Int
    /// The body's length, from `Content-Length` (0 without one: a request without
    /// `Content-Length` or `Transfer-Encoding` has no body).
    var contentLength: Int
    /// `POST /v1/chat/completions`.
    var isChat: Bool
    /// Where the `Authorization` value is (without surrounding whitespace).
    var authorization: Range<Int>?
    /// Where the `x-api-key` value is.
    var xAPIKey: Range<Int>?

    /// What the bytes at the start of a buffer hold.
    enum Scan: Equatable {
        /// The start of a head the front may serve; the rest has not arrived yet.
        case incomplete
        /// Not a request the front serves.
        case unsupported
        /// A complete head.
        case head(RelayRequestHead)
    }

    /// The request line of the requests the relay serves.
    static let chatLine = Array("POST /v1/chat/completions HTTP/1.1\r\n".utf8)
    static let version = Array(" HTTP/1.1\r\n".utf8)
    /// Heads longer than this are the decoder's (it has its own, larger limits).
    static let maxLength = 16 * 1024

    /// Scans the head at the start of `bytes`.
    static func scan(_ bytes: UnsafeRawBufferPointer) -> Scan {
        let n = bytes.count
        func more() -> Scan { n >= maxLength ? .unsupported : .incomplete }
        // The request line: method, one space, an origin or other target of visible
        // characters, " HTTP/1.1", CRLF.
        var i = 0
        while i < n, isToken(bytes[i]) { i += 1 }
        guard i < n else { return more() }
        guard bytes[i] == space, i > 0 else { return .unsupported }
        i += 1
        let targetStart = i
        while i < n, bytes[i] > space, bytes[i] < 0x7F { i += 1 }
        guard i < n else { return more() }
        guard i > targetStart else { return .unsupported }
        for v in version {
            guard i < n else { return more() }
            guard bytes[i] == v else { return .unsupported }
            i += 1
        }
        let isChat = i == chatLine.count && zip(chatLine.indices, chatLine).allSatisfy { bytes[$0] == $1 }

        var contentLength: Int?
        var authorization: Range<Int>?
        var xAPIKey: Range<Int>?
        while true {
            guard i < n else { return more() }
            if bytes[i] == cr {
                guard i + 1 < n else { return more() }
                guard bytes[i + 1] == lf else { return .unsupported }
                i += 2
                break
            }
            let nameStart = i
            while i < n, isToken(bytes[i]) { i += 1 }
            guard i < n else { return more() }
            // A line starting with whitespace (obsolete folding), whitespace before the colon,
            // an empty name: all refused.
            guard bytes[i] == colon, i > nameStart else { return .unsupported }
            let name = nameStart..<i
            i += 1
            while i < n, bytes[i] == space || bytes[i] == tab { i += 1 }
            let valueStart = i
            while i < n, HTTPBytes.isFieldContent(bytes[i]) { i += 1 }
            guard i < n else { return more() }
            guard bytes[i] == cr else { return .unsupported }
            guard i + 1 < n else { return more() }
            guard bytes[i + 1] == lf else { return .unsupported }
            var valueEnd = i
            while valueEnd > valueStart, bytes[valueEnd - 1] == space || bytes[valueEnd - 1] == tab { valueEnd -= 1 }
            let value = valueStart..<valueEnd
            i += 2
            guard i <= maxLength else { return .unsupported }

            switch name.count {
            case 14 where HTTPBytes.equalsLowercased(bytes, name, "content-length"):
                guard contentLength == nil, let parsed = HTTPBytes.decimal(bytes, value) else { return .unsupported }
                contentLength = parsed
            case 13 where HTTPBytes.equalsLowercased(bytes, name, "authorization"):
                guard authorization == nil else { return .unsupported }
                authorization = value
            case 9 where HTTPBytes.equalsLowercased(bytes, name, "x-api-key"):
                guard xAPIKey == nil else { return .unsupported }
                xAPIKey = value
            case 10 where HTTPBytes.equalsLowercased(bytes, name, "connection"):
                guard HTTPBytes.equalsLowercased(bytes, value, "keep-alive") else { return .unsupported }
            case 17 where HTTPBytes.equalsLowercased(bytes, name, "transfer-encoding"),
                6 where HTTPBytes.equalsLowercased(bytes, name, "expect"),
                7 where HTTPBytes.equalsLowercased(bytes, name, "upgrade"):
                return .unsupported
            default:
                break
            }
        }
        return .head(RelayRequestHead(
            length: i, contentLength: contentLength ?? 0, isChat: isChat, authorization: authorization, xAPIKey: xAPIKey
        ))
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let colon = UInt8(ascii: ":")
    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")

    /// `tchar` (RFC 9110 §5.6.2).
    private static func isToken(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
