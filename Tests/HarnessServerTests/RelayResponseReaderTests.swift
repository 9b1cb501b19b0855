//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

@testable import HarnessServer
import NIOCore
import Testing

@Suite("Relay upstream: response reader")
struct RelayResponseReaderTests {
    /// What the reader makes of `text` fed `piece` bytes at a time: the final head, the body
    /// (nil when not complete), whether extra bytes came, or the error.
    func read(_ text: String, piece: Int, endOfConnection: Bool = false) -> (head: RelayResponseReader.Head?, body: String?, extra: Bool, error: String?) {
        var reader = RelayResponseReader()
        var head: RelayResponseReader.Head?
        var body: String?
        let bytes = Array(text.utf8)
        var at = 0
        do {
            while at < bytes.count {
                let end = min(at + piece, bytes.count)
                reader.append(ByteBuffer(bytes: bytes[at..<end]))
                at = end
                reading: while true {
                    switch try reader.read() {
                    case .needMore: break reading
                    case .head(let h):
                        #expect(head == nil, "the head is reported once")
                        head = h
                    case .done(let b):
                        #expect(body == nil, "the body is reported once")
                        body = String(buffer: b)
                        break reading
                    }
                }
            }
        } catch {
            return (head, body, reader.hasExtraBytes, error.what)
        }
        if endOfConnection, body == nil, let b = reader.readEndOfConnection() {
            body = String(buffer: b)
            head = reader.head
        }
        return (head, body, reader.hasExtraBytes, nil)
    }

    /// `text` read whole and in every piece size from 1 to 9: all give the same result.
    func readAllWays(_ text: String, endOfConnection: Bool = false) -> (head: RelayResponseReader.Head?, body: String?, extra: Bool, error: String?) {
        let whole = read(text, piece: text.utf8.count, endOfConnection: endOfConnection)
        for piece in 1...9 {
            let split = read(text, piece: piece, endOfConnection: endOfConnection)
            #expect(split.head == whole.head && split.body == whole.body && split.error == whole.error, "in pieces of \(piece)")
        }
        return whole
    }

    @Test("A Content-Length body, however the bytes arrive")
    func contentLength() {
        let result = readAllWays("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 11\r\n\r\n{\"a\":\"bc\"}\n")
        #expect(result.head == .init(status: 200, keepAlive: true))
        #expect(result.body == "{\"a\":\"bc\"}\n")
        #expect(!result.extra && result.error == nil)
    }

    @Test("A chunked body, with extensions and trailers, after an interim response")
    func chunked() {
        let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
            + "4;name=value\r\n{\"a\"\r\nA \r\n:[1,2,3,4]\r\n1\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n"
        let result = readAllWays(text)
        #expect(result.head == .init(status: 200, keepAlive: true))
        #expect(result.body == "{\"a\":[1,2,3,4]}")
        #expect(result.error == nil)
    }

    @Test("Connection handling: close, HTTP/1.0, a body framed by the end of the connection, extra bytes")
    func connections() {
        #expect(readAllWays("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 2\r\n\r\n{}").head?.keepAlive == false)
        #expect(readAllWays("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}").head?.keepAlive == false)
        let untilClose = readAllWays("HTTP/1.1 200 OK\r\n\r\n{\"x\":1}", endOfConnection: true)
        #expect(untilClose.body == "{\"x\":1}")
        #expect(untilClose.head?.keepAlive == false)
        #expect(read("HTTP/1.1 200 OK\r\n\r\n{\"x\":1}", piece: 100).body == nil)  // not before the end
        #expect(readAllWays("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n").body == "")
        #expect(read("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200", piece: 100).extra)
        #expect(readAllWays("HTTP/1.1 429 Too Many Requests\r\nContent-Length: 2\r\n\r\n{}").head?.status == 429)
        #expect(readAllWays("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").body == "")
    }

    @Test(
        "Responses the reader does not read are errors, never guesses",
        arguments: [
            "HTTP/2 200 OK\r\n\r\n",
            "HTTP/1.1 20x OK\r\nContent-Length: 2\r\n\r\n{}",
            "HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\n{}",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
            "HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\n{}",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
            "HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n{}",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}}\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 2\r\n\r\n{}",
            "HTTP/1.1 200 OK\r\nX: a\u{1}b\r\nContent-Length: 2\r\n\r\n{}",
        ]
    )
    func malformed(text: String) {
        #expect(readAllWays(text).error != nil)
    }

    @Test("A head that does not end within the limit is an error")
    func longHead() {
        let text = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: RelayResponseReader.maxHeadLength)
        #expect(read(text, piece: 4096).error != nil)
    }
}
