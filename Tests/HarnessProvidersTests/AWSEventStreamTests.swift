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
import HarnessProviders
import Testing

/// Event streams for the tests: a ConverseStream answer framed as Bedrock frames it.
enum EventStreamFixture {
    /// `(event type, JSON payload)` → one frame each.
    static func frames(_ events: [(String, String)]) -> [UInt8] {
        events.flatMap { try! AWSEventStreamEncoder.event($0.0, json: $0.1) }
    }

    /// Text, then two tool calls whose blocks and argument fragments interleave, a reasoning
    /// block, stop reason and usage with cache reads and writes. Each payload carries the
    /// padding field `p` Bedrock adds.
    static let converseEvents: [(String, String)] = [
        ("messageStart", #"{"p":"abcdefghijklmnop","role":"assistant"}"#),
        ("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"thinking…"}},"p":"abc"}"#),
        ("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"sig"}},"p":"abc"}"#),
        ("contentBlockStop", #"{"contentBlockIndex":0,"p":"ab"}"#),
        ("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"text":"Checking both"},"p":"abcd"}"#),
        ("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"text":" cities ✓."},"p":"abcd"}"#),
        ("contentBlockStop", #"{"contentBlockIndex":1,"p":"ab"}"#),
        ("contentBlockStart", #"{"contentBlockIndex":2,"start":{"toolUse":{"name":"get_weather","toolUseId":"tooluse_A"}},"p":"a"}"#),
        ("contentBlockStart", #"{"contentBlockIndex":3,"start":{"toolUse":{"name":"get_time","toolUseId":"tooluse_B"}},"p":"a"}"#),
        ("contentBlockDelta", #"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"ci"}},"p":"abc"}"#),
        ("contentBlockDelta", #"{"contentBlockIndex":3,"delta":{"toolUse":{"input":"{\"zone\":"}},"p":"abc"}"#),
        ("contentBlockDelta", #"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"ty\":\"Paris\"}"}},"p":"abc"}"#),
        ("contentBlockDelta", #"{"contentBlockIndex":3,"delta":{"toolUse":{"input":"\"Europe/Rome\"}"}},"p":"abc"}"#),
        ("contentBlockStop", #"{"contentBlockIndex":2,"p":"ab"}"#),
        ("contentBlockStop", #"{"contentBlockIndex":3,"p":"ab"}"#),
        ("messageStop", #"{"p":"abcdef","stopReason":"tool_use"}"#),
        ("metadata", #"{"metrics":{"latencyMs":812},"p":"abc","usage":{"cacheReadInputTokens":1000,"cacheWriteInputTokens":200,"inputTokens":35,"outputTokens":60,"totalTokens":1295}}"#),
    ]

    static var converse: [UInt8] { frames(converseEvents) }

    /// A message with every header type.
    static var everyHeaderType: AWSEventStreamMessage {
        AWSEventStreamMessage(
            headers: [
                AWSEventStreamHeader("true", .bool(true)),
                AWSEventStreamHeader("false", .bool(false)),
                AWSEventStreamHeader("byte", .byte(-7)),
                AWSEventStreamHeader("short", .short(-1234)),
                AWSEventStreamHeader("int", .int(-123_456_789)),
                AWSEventStreamHeader("long", .long(-1_234_567_890_123)),
                AWSEventStreamHeader("bytes", .bytes([0, 1, 0xFE, 0xFF])),
                AWSEventStreamHeader("string", .string("héllo ✓")),
                AWSEventStreamHeader("timestamp", .timestamp(1_700_000_000_123)),
                AWSEventStreamHeader("uuid", .uuid(UUID(uuidString: "123E4567-E89B-12D3-A456-426614174000")!)),
                AWSEventStreamHeader("", .string("empty name")),
            ],
            payload: Array("{\"any\":\"payload\"}".utf8)
        )
    }

    /// A frame built from raw header bytes, with correct CRCs, for headers the encoder refuses
    /// to write.
    static func rawFrame(headers: [UInt8], payload: [UInt8]) -> [UInt8] {
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        var out = be32(headers.count + payload.count + 16) + be32(headers.count)
        out += be32(Int(CRC32.checksum(out)))
        out += headers + payload
        return out + be32(Int(CRC32.checksum(out)))
    }
}

@Suite struct AWSEventStreamTests {
    static func decodeAll(_ bytes: [UInt8], pieces: [Int] = []) throws -> [AWSEventStreamMessage] {
        var decoder = AWSEventStreamDecoder()
        var out: [AWSEventStreamMessage] = []
        var start = 0
        for split in pieces + [bytes.count] where split >= start {
            out += try decoder.feed(bytes[start..<split])
            start = split
        }
        try decoder.finish()
        return out
    }

    static func error(_ body: () throws -> Void) -> AWSEventStreamError? {
        do {
            try body()
            return nil
        } catch {
            return error as? AWSEventStreamError
        }
    }

    @Test func crc32MatchesTheStandardCheckValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for split in [0, 1, 500, 999, 1000] {
            let chained = bytes[..<split].withUnsafeBytes { a in
                bytes[split...].withUnsafeBytes { b in CRC32.update(CRC32.checksum(a), b) }
            }
            #expect(chained == CRC32.checksum(bytes))
        }
    }

    @Test func everyHeaderTypeRoundTrips() throws {
        let message = EventStreamFixture.everyHeaderType
        let frame = try AWSEventStreamEncoder.encode(headers: message.headers, payload: message.payload)
        #expect(try Self.decodeAll(frame) == [message])
        #expect(try Self.decodeAll([]) == [])
        let empty = try AWSEventStreamEncoder.encode(headers: [], payload: [])
        #expect(empty.count == 16)
        #expect(try Self.decodeAll(empty) == [AWSEventStreamMessage(headers: [], payload: [])])
    }

    /// The whole ConverseStream body split in two at every byte, fed a byte at a time, and in
    /// pseudo-random pieces: always the same messages.
    @Test func everySplitGivesTheSameMessages() throws {
        let bytes = EventStreamFixture.converse + (try AWSEventStreamEncoder.encode(
            headers: EventStreamFixture.everyHeaderType.headers, payload: EventStreamFixture.everyHeaderType.payload
        ))
        let reference = try Self.decodeAll(bytes)
        #expect(reference.count == EventStreamFixture.converseEvents.count + 1)
        #expect(reference.map(\.eventType).prefix(3) == ["messageStart", "contentBlockDelta", "contentBlockDelta"])
        for k in 0...bytes.count {
            let split = try Self.decodeAll(bytes, pieces: [k])
            if split != reference {
                Issue.record("split at \(k) differs")
                break
            }
        }
        #expect(try Self.decodeAll(bytes, pieces: Array(1..<bytes.count)) == reference)
        var generator = SplitMix(seed: 42)
        for _ in 0..<200 {
            var pieces: [Int] = []
            var at = 0
            while at < bytes.count {
                at += Int(generator.next() % 40)
                pieces.append(min(at, bytes.count))
            }
            #expect(try Self.decodeAll(bytes, pieces: pieces) == reference)
        }
    }

    @Test func badPreludeCRCIsNamedWithItsOffset() throws {
        var bytes = EventStreamFixture.converse
        let second = Int(AWSEventStreamDecoder.uint32Array(bytes, at: 0))
        bytes[second + 3] ^= 0x01  // the second message's total length
        var decoder = AWSEventStreamDecoder()
        decoder.append(bytes)
        var delivered: [AWSEventStreamMessage] = []
        let error = Self.error { while let message = try decoder.next() { delivered.append(message) } }
        #expect(delivered.count == 1, "the message before the bad one is delivered")
        #expect(error?.code == .preludeChecksumMismatch)
        #expect(error?.offset == second)
        #expect(error?.description.contains("prelude CRC mismatch") == true)
        #expect(error?.description.contains("at byte \(second)") == true)
        // Sticky: the same error again, whatever comes next.
        #expect(Self.error { _ = try decoder.next() } == error)
        #expect(Self.error { _ = try decoder.feed([UInt8]()) } == error)
        #expect(Self.error { try decoder.finish() } == error)
        // feed() in one piece loses the good message with the throw.
        var whole = AWSEventStreamDecoder()
        #expect(Self.error { _ = try whole.feed(bytes) }?.offset == second)
    }

    @Test func badMessageCRCIsNamedWithItsOffset() throws {
        var bytes = EventStreamFixture.converse
        let second = Int(AWSEventStreamDecoder.uint32Array(bytes, at: 0))
        let third = second + Int(AWSEventStreamDecoder.uint32Array(bytes, at: second))
        bytes[third - 6] ^= 0x20  // inside the second message's payload
        let error = Self.error { _ = try Self.decodeAll(bytes) }
        #expect(error?.code == .messageChecksumMismatch)
        #expect(error?.offset == second)
        #expect(error?.description.contains("message CRC mismatch") == true)
        // The same when the bad byte arrives last, one byte at a time.
        #expect(Self.error { _ = try Self.decodeAll(bytes, pieces: Array(1..<bytes.count)) } == error)
    }

    @Test func lengthsAndLimits() throws {
        func prelude(total: Int, headers: Int) -> [UInt8] {
            func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
            let head = be32(total) + be32(headers)
            return head + be32(Int(CRC32.checksum(head)))
        }
        #expect(Self.error { _ = try Self.decodeAll(prelude(total: 15, headers: 0)) }?.code == .invalidLength)
        #expect(Self.error { _ = try Self.decodeAll(prelude(total: 20, headers: 5)) }?.code == .invalidLength)
        let headers = Self.error { _ = try Self.decodeAll(prelude(total: 200_000, headers: 131_073)) }
        #expect(headers?.code == .limitExceeded)
        #expect(headers?.message.contains("headers length 131073") == true)
        let payload = Self.error { _ = try Self.decodeAll(prelude(total: 30 * 1024 * 1024, headers: 0)) }
        #expect(payload?.code == .limitExceeded)
        #expect(payload?.message.contains("payload length") == true)
        // A caller's own limits; the limit is enforced from the prelude, before the payload arrives.
        var small = AWSEventStreamDecoder(limits: .init(maxHeadersBytes: 64, maxPayloadBytes: 10))
        let frame = try AWSEventStreamEncoder.event("metadata", json: #"{"usage":{}}"#)
        #expect(Self.error { _ = try small.feed(frame.prefix(12)) }?.code == .limitExceeded)
    }

    @Test func badHeaders() throws {
        let payload = Array("{}".utf8)
        func code(_ headers: [UInt8]) -> AWSEventStreamError? {
            Self.error { _ = try Self.decodeAll(EventStreamFixture.rawFrame(headers: headers, payload: payload)) }
        }
        let unknownType = code([1, UInt8(ascii: "x"), 10])
        #expect(unknownType?.code == .invalidHeader)
        #expect(unknownType?.message.contains("unknown value type 10") == true)
        #expect(code([5, UInt8(ascii: "x")])?.message.contains("the name needs 5 bytes") == true)
        #expect(code([1, UInt8(ascii: "x"), 7, 0, 9, 0x61])?.code == .invalidHeader)
        #expect(code([1, UInt8(ascii: "x"), 7, 0, 2, 0xC3, 0x28])?.message.contains("not UTF-8") == true)
        #expect(code([1, UInt8(ascii: "x"), 4, 0, 0])?.code == .invalidHeader)
        #expect(code([1, UInt8(ascii: "x"), 0, 1, UInt8(ascii: "x"), 1])?.message.contains("appears twice") == true)
        let long = Self.error { _ = try AWSEventStreamEncoder.encode(headers: [AWSEventStreamHeader(String(repeating: "n", count: 256), .bool(true))], payload: []) }
        #expect(long?.code == .invalidHeader)
    }

    @Test func truncatedStreamsAreReportedAtFinish() throws {
        let bytes = EventStreamFixture.converse
        let first = Int(AWSEventStreamDecoder.uint32Array(bytes, at: 0))
        for cut in [first + 5, first + 12, first + 30] {
            var decoder = AWSEventStreamDecoder()
            let messages = try decoder.feed(bytes[..<cut])
            #expect(messages.count == 1)
            #expect(decoder.bufferedByteCount == cut - first)
            let error = Self.error { try decoder.finish() }
            #expect(error?.code == .truncated)
            #expect(error?.offset == first)
        }
    }

    /// botocore's `EventStreamBuffer` (installed on these machines) reads our frames exactly as
    /// we do — headers of every type, payloads — and rejects the same corrupted frames.
    @Test func botocoreAgrees() throws {
        let good = EventStreamFixture.converse + (try AWSEventStreamEncoder.encode(
            headers: EventStreamFixture.everyHeaderType.headers, payload: EventStreamFixture.everyHeaderType.payload
        )) + (try AWSEventStreamEncoder.exception("throttlingException", message: "Too many requests, please wait."))
        let second = Int(AWSEventStreamDecoder.uint32Array(good, at: 0))
        var badMessage = good
        badMessage[second + 20] ^= 0x04
        var badPrelude = good
        badPrelude[second + 2] ^= 0x80

        for (bytes, expectedError) in [(good, nil), (badMessage, AWSEventStreamError.Code.messageChecksumMismatch), (badPrelude, .preludeChecksumMismatch)] {
            // Ours, in one piece and then message by message as far as it gets.
            var ours: [AWSEventStreamMessage] = []
            var ourError: AWSEventStreamError?
            var decoder = AWSEventStreamDecoder()
            do {
                for i in bytes.indices { ours += try decoder.feed(bytes[i...i]) }
                try decoder.finish()
            } catch {
                ourError = error as? AWSEventStreamError
            }
            #expect(ourError?.code == expectedError)

            for mode in ["whole", "--byte-by-byte"] {
                let theirs = try Self.botocore(bytes, byteByByte: mode != "whole")
                let messages = try #require(theirs["messages"]?.arrayValue)
                #expect(messages.count == ours.count, "\(mode): botocore decoded \(messages.count) messages, we \(ours.count)")
                for (message, mine) in zip(messages, ours) {
                    #expect(message["payload"]?.stringValue == Self.hex(mine.payload))
                    let headers: [JSONValue] = mine.headers.map { header in
                        switch header.value {
                        case .bool(let b): [.string(header.name), "bool", .bool(b)]
                        case .byte(let v): [.string(header.name), "int", .integer(Int(v))]
                        case .short(let v): [.string(header.name), "int", .integer(Int(v))]
                        case .int(let v): [.string(header.name), "int", .integer(Int(v))]
                        case .long(let v), .timestamp(let v): [.string(header.name), "int", .integer(Int(v))]
                        case .string(let s): [.string(header.name), "string", .string(s)]
                        case .bytes(let b): [.string(header.name), "bytes", .string(Self.hex(b))]
                        case .uuid(let u): [.string(header.name), "bytes", .string(Self.hex(withUnsafeBytes(of: u.uuid) { Array($0) }))]
                        }
                    }
                    #expect(message["headers"] == .array(headers))
                }
                let error = theirs["error"]?.stringValue
                if expectedError == nil {
                    #expect(error == nil, "\(mode): \(error ?? "")")
                } else {
                    #expect(error?.hasPrefix("ChecksumMismatch") == true, "\(mode): botocore said \(error ?? "nothing")")
                }
            }
        }
    }

    /// Runs Fixtures/botocore_eventstream.py on `bytes`.
    static func botocore(_ bytes: [UInt8], byteByByte: Bool) throws -> JSONValue {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("eventstream-\(UUID().uuidString).bin")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = Fixture.root.appendingPathComponent("botocore_eventstream.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, file.path] + (byteByByte ? ["--byte-by-byte"] : [])
        let stdout = Pipe()
        process.standardOutput = stdout
        try process.run()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 with botocore must be available (it is installed on these machines)")
        return try JSONValue(parsingBytes: Array(data))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}

/// A small deterministic generator for split points.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension AWSEventStreamDecoder {
    /// The big-endian UInt32 at `i` (test helper for locating messages).
    static func uint32Array(_ bytes: [UInt8], at i: Int) -> UInt32 {
        UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
    }
}
