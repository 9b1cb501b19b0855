//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HarnessProviders
import HarnessProvidersTesting
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// The keep-alive HTTP/1.1 client that serves plain-HTTP provider URLs: connections are
/// reused, dropped ones are noticed, and a request the server dropped unanswered on a reused
/// connection goes again on a new one.
@Suite struct HTTP1UpstreamClientTests {
    static func send(_ client: ProviderHTTPClient, _ server: WireTestServer, _ text: String, timeouts: ProviderTimeouts = .default) async throws -> String {
        let request = ProviderHTTPRequest(url: server.baseURL + "/v1/echo?x=1", headers: ["content-type": "text/plain"], body: Array(text.utf8))
        let (head, body) = try await client.send(request, provider: "test", timeouts: timeouts)
        #expect(head.status == 200)
        return String(decoding: body, as: UTF8.self)
    }

    static let echo: @Sendable (WireTestServer.Request) -> WireTestServer.Reply = { request in
        .init(status: 200, body: request.body)
    }

    @Test func sequentialRequestsShareOneConnection() async throws {
        let server = try await WireTestServer.start(Self.echo)
        defer { server.shutdown() }
        let client = ProviderHTTPClient()
        for i in 0..<20 {
            #expect(try await Self.send(client, server, "hello \(i)") == "hello \(i)")
        }
        #expect(server.acceptedConnectionCount == 1)
        let first = try #require(server.requests.first)
        #expect(first.uri == "/v1/echo?x=1")
        #expect(first.header("host") == "127.0.0.1:\(server.port)")
        #expect(first.header("content-length") == "7")
        try await client.shutdown()
    }

    @Test func concurrentRequestsOpenAtMostOneConnectionEach() async throws {
        let server = try await WireTestServer.start { request in
            .init(status: 200, body: request.body, chunking: .sizes([3, 3]), chunkDelay: .milliseconds(5))
        }
        defer { server.shutdown() }
        let client = ProviderHTTPClient()
        for round in 0..<3 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<16 {
                    group.addTask {
                        let text = "round \(round) request \(i)"
                        let echoed = try await Self.send(client, server, text)
                        #expect(echoed == text)
                    }
                }
                try await group.waitForAll()
            }
        }
        // Later rounds reuse the first round's connections.
        #expect(server.acceptedConnectionCount <= 16)
        #expect(server.requests.count == 48)
        try await client.shutdown()
    }

    @Test func connectionsTheServerClosesAreNotReused() async throws {
        let server = try await WireTestServer.start { request in
            var reply = WireTestServer.Reply(status: 200, body: request.body)
            reply.closeAfterResponse = true
            return reply
        }
        defer { server.shutdown() }
        let client = ProviderHTTPClient()
        for i in 0..<10 {
            #expect(try await Self.send(client, server, "n\(i)") == "n\(i)")
        }
        #expect(server.requests.count == 10)
        try await client.shutdown()
    }

    @Test func aRequestDroppedUnansweredOnAReusedConnectionGoesAgain() async throws {
        let count = Mutex(0)
        let server = try await WireTestServer.start { request in
            let n = count.withLock { n in
                n += 1
                return n
            }
            // The second request arrives on the kept-alive connection: drop it unanswered.
            if n == 2 { return WireTestServer.Reply(dropConnection: true) }
            return .init(status: 200, body: request.body)
        }
        defer { server.shutdown() }
        let client = ProviderHTTPClient()
        #expect(try await Self.send(client, server, "one") == "one")
        #expect(try await Self.send(client, server, "two") == "two")
        #expect(server.requests.map(\.bodyText) == ["one", "two", "two"])
        #expect(server.acceptedConnectionCount == 2)
        try await client.shutdown()
    }

    @Test func aFirstRequestDroppedUnansweredIsAnError() async throws {
        let server = try await WireTestServer.start { _ in WireTestServer.Reply(dropConnection: true) }
        defer { server.shutdown() }
        let client = ProviderHTTPClient()
        let error = try await #require(throws: ProviderError.self) { try await Self.send(client, server, "x") }
        #expect(error.code == .connection)
        #expect(error.message.contains("closed the connection"))
        #expect(server.requests.count == 1)  // a new connection's request is never sent twice
        try await client.shutdown()
    }

    @Test func connectionCloseIsHonoured() async throws {
        let server = try await WireTestServer.start(Self.echo)
        defer { server.shutdown() }
        let client = ProviderHTTPClient()
        for i in 0..<3 {
            let request = ProviderHTTPRequest(url: server.baseURL + "/", headers: ["connection": "close"], body: Array("c\(i)".utf8))
            let (_, body) = try await client.send(request, provider: "test")
            #expect(String(decoding: body, as: UTF8.self) == "c\(i)")
        }
        #expect(server.acceptedConnectionCount == 3)
        try await client.shutdown()
    }

    @Test func aLargeChunkedBodyArrivesWhole() async throws {
        let big = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let server = try await WireTestServer.start { _ in .init(status: 200, body: big, chunking: .sizes(Array(repeating: 1000, count: 100))) }
        defer { server.shutdown() }
        let client = ProviderHTTPClient()
        // Read slowly at first, so that reading from the socket pauses and resumes.
        let received = try await client.execute(ProviderHTTPRequest(url: server.baseURL + "/big"), provider: "test") { _, body in
            var bytes: [UInt8] = []
            var chunks = 0
            for try await chunk in body {
                bytes.append(contentsOf: chunk.readableBytesView)
                chunks += 1
                if chunks < 20 { try await Task.sleep(for: .milliseconds(2)) }
            }
            return bytes
        }
        #expect(received.count == big.count)
        #expect(received == big)
        try await client.shutdown()
    }

    @Test func refusedConnectionNamesTheAddress() async throws {
        // A port that was just free: bind a server, note its port, stop it.
        let server = try await WireTestServer.start(Self.echo)
        let port = server.port
        server.shutdown()
        try await Task.sleep(for: .milliseconds(50))
        let client = ProviderHTTPClient()
        let error = try await #require(throws: ProviderError.self) {
            try await client.send(ProviderHTTPRequest(url: "http://127.0.0.1:\(port)/v1"), provider: "test")
        }
        #expect(error.code == .connection)
        #expect(error.message.contains("127.0.0.1:\(port)"))
        try await client.shutdown()
    }

    @Test func abandoningABodyClosesItsConnectionAndTheNextRequestUsesANewOne() async throws {
        let server = try await WireTestServer.start { request in
            request.uri == "/slow"
                ? .init(status: 200, body: Array(repeating: 0x61, count: 1000), chunking: .sizes(Array(repeating: 10, count: 100)), chunkDelay: .milliseconds(20))
                : .init(status: 200, body: Array("ok".utf8))
        }
        defer { server.shutdown() }
        let client = ProviderHTTPClient()
        let first = try await client.execute(ProviderHTTPRequest(url: server.baseURL + "/slow"), provider: "test") { _, body in
            var iterator = body.makeAsyncIterator()
            return try await iterator.next()?.readableBytes ?? 0
        }
        #expect(first > 0)
        let (_, body) = try await client.send(ProviderHTTPRequest(url: server.baseURL + "/fast"), provider: "test")
        #expect(body == Array("ok".utf8))
        #expect(server.acceptedConnectionCount == 2)
        // The abandoned response's connection is closed, not left streaming.
        for _ in 0..<100 where server.closedConnectionCount < 1 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.closedConnectionCount >= 1)
        try await client.shutdown()
    }
}
