//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

@testable import HarnessServer
import Testing

@Suite("Relay front: request heads")
struct RelayRequestHeadTests {
    func scan(_ text: String) -> RelayRequestHead.Scan {
        Array(text.utf8).withUnsafeBytes { RelayRequestHead.scan($0) }
    }

    func head(_ text: String) -> RelayRequestHead? {
        if case .head(let head) = scan(text) { return head }
        return nil
    }

    /// The text of `range` in `text`.
    func value(_ text: String, _ range: Range<Int>?) -> String? {
        range.map { String(decoding: Array(text.utf8)[$0], as: UTF8.self) }
    }

    @Test("A plain request: its head's length, body length and keys are found")
    func plain() throws {
        let text = "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
            + "authorization:   Bearer sk-1 \t\r\nX-Api-Key: k2\r\nconnection: Keep-Alive\r\nContent-Length: 42\r\n\r\n{\"model\":"
        let found = try #require(head(text))
        #expect(found.isChat)
        #expect(found.contentLength == 42)
        #expect(found.length == text.utf8.count - "{\"model\":".utf8.count)
        #expect(value(text, found.authorization) == "Bearer sk-1")
        #expect(value(text, found.xAPIKey) == "k2")
        let bare = try #require(head("POST /v1/chat/completions HTTP/1.1\r\ncontent-length:0\r\n\r\n"))
        #expect(bare.contentLength == 0 && bare.authorization == nil && bare.xAPIKey == nil)
    }

    @Test(
        "Other requests with a plain framing are read too, to be lent to the codec whole",
        arguments: [
            ("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n", 0),
            ("POST /v1/messages HTTP/1.1\r\nContent-Length: 12\r\n\r\n", 12),
            ("POST /v1/chat/completions?x=1 HTTP/1.1\r\nContent-Length: 2\r\n\r\n", 2),
            ("POST /v1/chat/completions/ HTTP/1.1\r\nContent-Length: 2\r\n\r\n", 2),
            ("post /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\n\r\n", 2),
            ("GET /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\n\r\n", 2),
            ("OPTIONS * HTTP/1.1\r\n\r\n", 0),
            ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n", 0),
        ]
    )
    func lendable(text: String, contentLength: Int) throws {
        let found = try #require(head(text))
        #expect(found.isChat == text.hasPrefix("POST /v1/chat/completions HTTP/1.1\r\n"))
        #expect(found.contentLength == contentLength)
        #expect(found.length == text.utf8.count)
    }

    @Test("Every proper prefix of a head is incomplete; bytes after it are not the head's")
    func prefixes() {
        let text = "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer k\r\nContent-Length: 2\r\n\r\n"
        let bytes = Array(text.utf8)
        for end in 0..<bytes.count {
            let result = Array(bytes[..<end]).withUnsafeBytes { RelayRequestHead.scan($0) }
            #expect(result == .incomplete, "prefix of \(end) bytes")
        }
        #expect(head(text + "{}GET / HTTP/1.1\r\n")?.length == bytes.count)
    }

    @Test(
        "Anything the front does not fully understand is the codec's",
        arguments: [
            "POST /v1/chat/completions HTTP/1.0\r\nContent-Length: 2\r\n\r\n",
            "POST  /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\n\r\n",
            "POST /v1/chat/completions  HTTP/1.1\r\nContent-Length: 2\r\n\r\n",
            " POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\n\r\n",
            "\r\nPOST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\n\r\n",
            "POST /v1/chat/compl\u{7F}etions HTTP/1.1\r\nContent-Length: 2\r\n\r\n",
            "POST /v1/chat/complétions HTTP/1.1\r\nContent-Length: 2\r\n\r\n",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\nContent-Length: 2\r\n\r\n",
            // Framing: two lengths, a malformed one, chunked (with or without a length).
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: +2\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2 2\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2,2\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 0x2\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 1234567890123456\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\ntransfer-encoding: identity\r\n\r\n",
            // Malformed lines: whitespace before the colon, folding, bare LF, no colon, empty name, control bytes.
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length : 2\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nX-A: b\r\n c\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\nHost: x\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nHost x\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\n: x\r\nContent-Length: 2\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nX-A: b\u{0}c\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nX-A: b\rc\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\n\r\r",
            // Requests that want something else of the server, and repeated keys.
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nConnection: keep-alive, Upgrade\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nUpgrade: h2c\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n",
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nx-api-key: a\r\nX-API-KEY: b\r\n\r\n",
        ]
    )
    func unsupported(text: String) {
        #expect(scan(text) == .unsupported)
    }

    @Test("A head that does not end within the limit is the codec's, complete or not")
    func tooLong() {
        let filler = String(repeating: "a", count: RelayRequestHead.maxLength)
        #expect(scan("POST /v1/chat/completions HTTP/1.1\r\nX-Filler: " + filler) == .unsupported)
        #expect(scan("POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nX-Filler: " + filler + "\r\n\r\n") == .unsupported)
        let justUnder = String(repeating: "a", count: RelayRequestHead.maxLength - 200)
        #expect(head("POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nX-Filler: " + justUnder + "\r\n\r\n")?.contentLength == 2)
    }
}
