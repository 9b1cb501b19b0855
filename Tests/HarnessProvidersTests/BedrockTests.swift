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
import HarnessProvidersTesting
import Synchronization
import Testing

@Suite struct BedrockTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: secret)
    static let modelID = "anthropic.claude-3-5-sonnet-20240620-v1:0"

    static func model(_ server: WireTestServer, credentials: AWSCredentials = credentials, region: String = "us-east-1", timeouts: ProviderTimeouts = .default) -> BedrockModel {
        BedrockModel(
            credentials: credentials,
            region: region,
            settings: ProviderSettings(baseURL: server.baseURL, providerName: "bedrock", timeouts: timeouts)
        )
    }

    static let request = ModelRequest(
        model: modelID,
        system: "Be brief.",
        messages: [.user("Weather in Paris, and the time in Rome?")],
        tools: [
            ToolSpec(name: "get_weather", description: "Weather by city", inputSchema: ["type": "object", "properties": ["city": ["type": "string"]]]),
            ToolSpec(name: "get_time", description: "Time by zone"),
        ]
    )

    static func stream(_ bytes: [UInt8], chunking: WireTestServer.Chunking = .whole, requestID: String = "req-bedrock-1") -> WireTestServer.Reply {
        WireTestServer.Reply(
            status: 200,
            headers: [("content-type", "application/vnd.amazon.eventstream"), ("x-amzn-requestid", requestID)],
            body: bytes,
            chunking: chunking
        )
    }

    static func providerError(_ error: (any Error)?) throws -> ProviderError {
        try #require(error as? ProviderError, "expected a ProviderError, got \(String(describing: error))")
    }

    // MARK: Streaming

    @Test func textStream() async throws {
        let bytes = EventStreamFixture.frames([
            ("messageStart", #"{"role":"assistant"}"#),
            ("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Hello"}}"#),
            ("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":", world"}}"#),
            ("contentBlockStop", #"{"contentBlockIndex":0}"#),
            ("messageStop", #"{"stopReason":"end_turn"}"#),
            ("metadata", #"{"usage":{"inputTokens":10,"outputTokens":5,"totalTokens":15},"metrics":{"latencyMs":100}}"#),
        ])
        let server = try await WireTestServer.start { _ in Self.stream(bytes) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(error == nil)
        #expect(events == [
            .textDelta("Hello"), .textDelta(", world"),
            .usage(Usage(inputTokens: 10, outputTokens: 5)),
            .finish(.stop, requestID: "req-bedrock-1"),
        ])
    }

    /// Text, reasoning (dropped), two tool calls whose blocks interleave with input split over
    /// deltas, usage with cache reads and writes counted into the input tokens.
    @Test func parallelToolUseAndCacheUsage() async throws {
        let server = try await WireTestServer.start { _ in Self.stream(EventStreamFixture.converse) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        #expect(error == nil)
        checkGrammar(events)
        #expect(normalized(events) == [
            .textDelta("Checking both cities ✓."),
            .toolCallStart(id: "tooluse_A", name: "get_weather"),
            .toolCallStart(id: "tooluse_B", name: "get_time"),
            .toolCallArgumentsDelta(id: "tooluse_A", delta: #"{"ci"#),
            .toolCallArgumentsDelta(id: "tooluse_B", delta: #"{"zone":"#),
            .toolCallArgumentsDelta(id: "tooluse_A", delta: #"ty":"Paris"}"#),
            .toolCallArgumentsDelta(id: "tooluse_B", delta: #""Europe/Rome"}"#),
            .toolCallComplete(ToolCall(id: "tooluse_A", name: "get_weather", rawArguments: #"{"city":"Paris"}"#)),
            .toolCallComplete(ToolCall(id: "tooluse_B", name: "get_time", rawArguments: #"{"zone":"Europe/Rome"}"#)),
            .usage(Usage(inputTokens: 1235, outputTokens: 60, cacheReadTokens: 1000, cacheWriteTokens: 200)),
            .finish(.toolCalls, requestID: "req-bedrock-1"),
        ])
        let s = summary(events)
        #expect(s.calls.map(\.arguments) == [["city": "Paris"], ["zone": "Europe/Rome"]])
        // The default complete() over this stream agrees.
        let collected = try await Self.model(server).streamCollected(Self.request)
        #expect(collected.message.toolCalls.count == 2)
    }

    /// The body split in two at every byte boundary (chunked HTTP frames), and one byte per
    /// frame: the same events once deltas are merged.
    @Test func everySplitOverHTTPGivesTheSameEvents() async throws {
        let bytes = EventStreamFixture.converse
        let reference = normalized(mapAll({ BedrockStreamMapper(provider: "bedrock", requestID: "r") }, bytes, splits: []).events)
        #expect(reference.count == 11)
        let split = Mutex(-1)
        let server = try await WireTestServer.start { _ in
            let k = split.withLock { v in defer { v += 1 }; return v }
            return Self.stream(bytes, chunking: k < 0 ? .everyByte : .splitAt(k), requestID: "r")
        }
        defer { server.shutdown() }
        let model = Self.model(server)
        for k in -1...bytes.count {
            let (events, error) = await collect(model.stream(Self.request))
            if error != nil || normalized(events) != reference {
                Issue.record("split \(k) differs: \(String(describing: error))")
                break
            }
        }
    }

    @Test func streamsThatEndEarlyAreTruncated() async throws {
        let all = EventStreamFixture.converseEvents
        let cases: [(events: [(String, String)], missing: String)] = [
            (Array(all.dropLast()), "(metadata)"),
            (Array(all.dropLast(2)), "(messageStop and metadata)"),
            (Array(all.prefix(14)), "(messageStop and metadata)"),
        ]
        for (events, missing) in cases {
            let server = try await WireTestServer.start { _ in Self.stream(EventStreamFixture.frames(events)) }
            defer { server.shutdown() }
            let (delivered, error) = await collect(Self.model(server).stream(Self.request))
            let e = try Self.providerError(error)
            #expect(e.code == .invalidResponse)
            #expect(e.message.contains(missing), "\(e.message)")
            #expect(!delivered.contains { if case .finish = $0 { true } else { false } })
        }
        // Cut inside a frame: the framing error names the offset.
        let bytes = EventStreamFixture.converse
        let server = try await WireTestServer.start { _ in Self.stream(Array(bytes.dropLast(7))) }
        defer { server.shutdown() }
        let (_, error) = await collect(Self.model(server).stream(Self.request))
        let e = try Self.providerError(error)
        #expect(e.code == .invalidResponse)
        #expect(e.message.contains("the stream ended after"))
    }

    /// A corrupted frame ends the stream with an error that names the failed CRC; the events
    /// decoded before it are delivered.
    @Test func corruptedFrameIsRejected() async throws {
        var bytes = EventStreamFixture.converse
        bytes[bytes.count - 40] ^= 0x01  // inside the metadata payload
        let corrupted = bytes
        let server = try await WireTestServer.start { _ in Self.stream(corrupted) }
        defer { server.shutdown() }
        let (events, error) = await collect(Self.model(server).stream(Self.request))
        let e = try Self.providerError(error)
        #expect(e.code == .invalidResponse)
        #expect(e.message.contains("message CRC mismatch"), "\(e.message)")
        #expect(summary(events).calls.count == 2)
        #expect(events.last.map { if case .finish = $0 { true } else { false } } == false)
    }

    @Test func notAnEventStreamSaysSo() async throws {
        let server = try await WireTestServer.start { _ in .json(#"{"output":{"message":{"content":[{"text":"hi"}]}}}"#) }
        defer { server.shutdown() }
        let (_, error) = await collect(Self.model(server).stream(Self.request))
        let e = try Self.providerError(error)
        #expect(e.message.contains("prelude CRC mismatch"))
        #expect(e.message.contains("content-type is application/json"))
    }

    @Test func exceptionsInTheStream() async throws {
        let cases: [(String, String, ProviderError.Code, Bool)] = [
            ("throttlingException", "Too many requests, please wait before trying again.", .rateLimited, true),
            ("modelStreamErrorException", "Model stream error: upstream 529", .server, true),
            ("validationException", "Malformed input request", .invalidRequest, false),
            ("validationException", "Input is too long for requested model.", .contextLengthExceeded, false),
            ("serviceUnavailableException", "Service unavailable", .overloaded, true),
            ("internalServerException", "Internal error", .server, true),
        ]
        for (type, message, code, retryable) in cases {
            let bytes = EventStreamFixture.frames(Array(EventStreamFixture.converseEvents.prefix(6)))
                + (try AWSEventStreamEncoder.exception(type, message: message))
                + EventStreamFixture.frames(Array(EventStreamFixture.converseEvents.suffix(2)))
            let server = try await WireTestServer.start { _ in Self.stream(bytes, requestID: "req-ex") }
            defer { server.shutdown() }
            let (events, error) = await collect(Self.model(server).stream(Self.request))
            let e = try Self.providerError(error)
            #expect(e.code == code, "\(type)")
            #expect(e.isRetryable == retryable, "\(type)")
            #expect(e.message == message)
            #expect(e.providerCode == type.prefix(1).uppercased() + type.dropFirst())
            #expect(e.requestID == "req-ex")
            #expect(e.status == nil)
            #expect(summary(events).text == "Checking both cities ✓.", "events before the exception are delivered")
        }
        // The generic `error` message type, with :error-code and :error-message headers.
        let errorFrame = try AWSEventStreamEncoder.encode(
            headers: [
                AWSEventStreamHeader(":message-type", .string("error")),
                AWSEventStreamHeader(":error-code", .string("ThrottlingException")),
                AWSEventStreamHeader(":error-message", .string("slow down")),
            ],
            payload: []
        )
        let server = try await WireTestServer.start { _ in Self.stream(errorFrame) }
        defer { server.shutdown() }
        let e = try Self.providerError(await collect(Self.model(server).stream(Self.request)).error)
        #expect(e.code == .rateLimited)
        #expect(e.message == "slow down")
    }

    // MARK: Non-streaming

    @Test func converseResponse() async throws {
        let body = """
            {"metrics":{"latencyMs":1200},
             "output":{"message":{"role":"assistant","content":[
               {"reasoningContent":{"reasoningText":{"text":"hmm","signature":"s"}}},
               {"text":"Let me check."},
               {"toolUse":{"toolUseId":"tooluse_1","name":"get_weather","input":{"city":"Paris"}}},
               {"toolUse":{"toolUseId":"tooluse_2","name":"get_time","input":{}}}]}},
             "stopReason":"tool_use",
             "usage":{"inputTokens":12,"outputTokens":40,"totalTokens":552,"cacheReadInputTokens":500,"cacheWriteInputTokens":0}}
            """
        let server = try await WireTestServer.start { _ in .json(body, headers: [("x-amzn-RequestId", "4b3c-req")]) }
        defer { server.shutdown() }
        let response = try await Self.model(server).complete(Self.request)
        #expect(response.message.text == "Let me check.")
        #expect(response.message.toolCalls == [
            ToolCall(id: "tooluse_1", name: "get_weather", arguments: ["city": "Paris"]),
            ToolCall(id: "tooluse_2", name: "get_time", arguments: [:]),
        ])
        #expect(response.finishReason == .toolCalls)
        #expect(response.usage == Usage(inputTokens: 512, outputTokens: 40, cacheReadTokens: 500))
        #expect(response.requestID == "4b3c-req")
        #expect(response.model == Self.modelID)
        let sent = try #require(server.requests.first)
        #expect(sent.uri == "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse")
        #expect(sent.header("accept") == "application/json")
    }

    @Test func stopReasons() {
        let cases: [(String?, FinishReason)] = [
            ("end_turn", .stop), ("stop_sequence", .stop), (nil, .stop), ("tool_use", .toolCalls),
            ("max_tokens", .length), ("model_context_window_exceeded", .length),
            ("guardrail_intervened", .contentFilter), ("content_filtered", .contentFilter),
            ("malformed_tool_use", .other("malformed_tool_use")),
        ]
        for (wire, reason) in cases { #expect(BedrockWire.finishReason(wire) == reason) }
    }

    @Test func httpErrors() async throws {
        let coral = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
        let cases: [(Int, String, String, ProviderError.Code, Bool)] = [
            (429, "ThrottlingException", "Too many requests, please wait before trying again.", .rateLimited, true),
            (403, "AccessDeniedException", "You don't have access to the model with the specified model ID.", .permission, false),
            (400, "ValidationException", "Input is too long for requested model.", .contextLengthExceeded, false),
            (400, "ValidationException", "The provided model identifier is invalid.", .invalidRequest, false),
            (503, "ServiceUnavailableException", "Bedrock is unable to process your request.", .overloaded, true),
            (429, "ModelNotReadyException", "Model is not ready for inference.", .overloaded, true),
            (404, "ResourceNotFoundException", "Could not resolve the foundation model.", .notFound, false),
            (408, "ModelTimeoutException", "Model has timed out.", .timeout, true),
            (500, "InternalServerException", "Internal error.", .server, true),
            (403, "UnrecognizedClientException", "The security token included in the request is invalid.", .authentication, false),
        ]
        for (status, type, message, code, retryable) in cases {
            let server = try await WireTestServer.start { _ in
                .json(#"{"message":"\#(message)"}"#, status: status, headers: [("x-amzn-ErrorType", type + coral), ("x-amzn-RequestId", "req-\(status)")])
            }
            defer { server.shutdown() }
            for streaming in [false, true] {
                let error: (any Error)?
                if streaming {
                    error = await collect(Self.model(server).stream(Self.request)).error
                } else {
                    do { _ = try await Self.model(server).complete(Self.request); error = nil } catch let e { error = e }
                }
                let e = try Self.providerError(error)
                #expect(e.code == code, "\(type)")
                #expect(e.isRetryable == retryable, "\(type)")
                #expect(e.status == status)
                #expect(e.providerCode == type)
                #expect(e.message == message)
                #expect(e.requestID == "req-\(status)")
            }
        }
    }

    // MARK: Request

    @Test func requestBody() async throws {
        let server = try await WireTestServer.start { _ in Self.stream(EventStreamFixture.converse) }
        defer { server.shutdown() }
        let a = ToolCall(id: "tooluse_A", name: "get_weather", rawArguments: #"{"city":"Paris"}"#)
        let b = ToolCall(id: "tooluse_B", name: "get_time", rawArguments: "not json")
        let request = ModelRequest(
            model: Self.modelID,
            system: "sys",
            messages: [
                .system("more system"),
                Message(role: .user, content: [.text("look"), .text(""), .image(ImageContent(base64Data: "AAAA", mediaType: "image/jpeg"))]),
                .assistant("checking", toolCalls: [a, b]),
                .tool(ToolResult(toolCallID: "tooluse_A", name: "get_weather", content: "sunny")),
                .tool(ToolResult(toolCallID: "tooluse_B", name: "get_time", content: "bad zone", isError: true)),
                .user("thanks"),
                .assistant(""),
                Message(role: .user, content: [.image(ImageContent(url: "data:image/webp;base64,UklG"))]),
            ],
            tools: Self.request.tools,
            toolChoice: .tool("get_weather"),
            responseFormat: .jsonSchema(name: "answer", schema: ["type": "object"], strict: true),
            options: GenerationOptions(temperature: 0.5, topP: 0.9, maxOutputTokens: 100, seed: 7, stopSequences: ["END"])
        )
        _ = await collect(Self.model(server).stream(request))
        let sent = try #require(server.requests.first)
        #expect(sent.method == "POST")
        #expect(sent.uri == "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream")
        #expect(sent.header("content-type") == "application/json")
        #expect(sent.header("accept") == "application/vnd.amazon.eventstream")
        let body = try JSONValue(parsingBytes: sent.body)
        #expect(body["system"] == [["text": "sys"], ["text": "more system"]])
        #expect(body["messages"] == [
            ["role": "user", "content": [["text": "look"], ["image": ["format": "jpeg", "source": ["bytes": "AAAA"]]]]],
            ["role": "assistant", "content": [
                ["text": "checking"],
                ["toolUse": ["toolUseId": "tooluse_A", "name": "get_weather", "input": ["city": "Paris"]]],
                ["toolUse": ["toolUseId": "tooluse_B", "name": "get_time", "input": [:]]],
            ]],
            ["role": "user", "content": [
                ["toolResult": ["toolUseId": "tooluse_A", "content": [["text": "sunny"]]]],
                ["toolResult": ["toolUseId": "tooluse_B", "content": [["text": "bad zone"]], "status": "error"]],
                ["text": "thanks"],
                ["image": ["format": "webp", "source": ["bytes": "UklG"]]],
            ]],
        ])
        #expect(body["inferenceConfig"] == ["maxTokens": 100, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]])
        #expect(body["toolConfig"] == [
            "tools": [
                ["toolSpec": ["name": "get_weather", "description": "Weather by city", "inputSchema": ["json": ["type": "object", "properties": ["city": ["type": "string"]]]]]],
                ["toolSpec": ["name": "get_time", "description": "Time by zone", "inputSchema": ["json": ["type": "object"]]]],
            ],
            "toolChoice": ["tool": ["name": "get_weather"]],
        ])
        #expect(body["outputConfig"] == ["textFormat": ["type": "json_schema", "structure": ["jsonSchema": ["schema": #"{"type":"object"}"#, "name": "answer"]]]])
        #expect(body["modelId"] == nil && body["seed"] == nil)
    }

    @Test func toolChoices() throws {
        func config(_ choice: ToolChoice, tools: [ToolSpec] = BedrockTests.request.tools, history: Bool = false) throws -> JSONValue? {
            var messages: [Message] = [.user("hi")]
            if history {
                messages += [
                    .assistant("", toolCalls: [ToolCall(id: "t1", name: "lookup", rawArguments: "{}")]),
                    .tool(ToolResult(toolCallID: "t1", name: "lookup", content: "42")),
                ]
            }
            let request = ModelRequest(model: "m", messages: messages, tools: tools, toolChoice: choice)
            return try BedrockWire.body(for: request)["toolConfig"]
        }
        #expect(try config(.auto)?["toolChoice"] == ["auto": [:]])
        #expect(try config(.required)?["toolChoice"] == ["any": [:]])
        #expect(try config(.tool("get_time"))?["toolChoice"] == ["tool": ["name": "get_time"]])
        // none: no tools at all…
        #expect(try config(.none) == nil)
        // …unless the history holds tool blocks, which Converse accepts only with a toolConfig.
        let withHistory = try config(.none, history: true)
        #expect(withHistory?["tools"]?.arrayValue?.count == 2)
        #expect(withHistory?["toolChoice"] == nil)
        // Tool blocks but no tools: minimal specs for the names used.
        #expect(try config(.auto, tools: [], history: true)?["tools"] == [["toolSpec": ["name": "lookup", "inputSchema": ["json": ["type": "object"]]]]])
        #expect(try config(.auto, tools: []) == nil)
    }

    @Test func imagesByURLAreRefusedBeforeSending() async throws {
        let request = ModelRequest(model: "m", messages: [Message(role: .user, content: [.image(ImageContent(url: "https://example.com/cat.png"))])])
        #expect(throws: ProviderError.self) { try BedrockWire.body(for: request) }
        let s3 = ModelRequest(model: "m", messages: [Message(role: .user, content: [.image(ImageContent(url: "s3://bucket/cat.gif"))])])
        #expect(try BedrockWire.body(for: s3)["messages"]?[0]?["content"]?[0] == ["image": ["format": "gif", "source": ["s3Location": ["uri": "s3://bucket/cat.gif"]]]])
        let server = try await WireTestServer.start { _ in Self.stream(EventStreamFixture.converse) }
        defer { server.shutdown() }
        let e = try Self.providerError(await collect(Self.model(server).stream(request)).error)
        #expect(e.code == .invalidRequest)
        #expect(server.requests.isEmpty)
    }

    /// Model ids with `:` and ARNs with `/` are percent-encoded into one path segment.
    @Test func modelIDsAndARNsInThePath() async throws {
        let server = try await WireTestServer.start { _ in Self.stream(EventStreamFixture.converse) }
        defer { server.shutdown() }
        let arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-2-1b-instruct-v1:0"
        var request = Self.request
        request.model = arn
        _ = await collect(Self.model(server).stream(request))
        let sent = try #require(server.requests.first)
        #expect(sent.uri == "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.meta.llama3-2-1b-instruct-v1%3A0/converse-stream")
        try Self.verifySignature(sent, credentials: Self.credentials, region: "us-east-1")
        try Self.verifyWithBotocore(sent, token: nil)
    }

    // MARK: Signing

    /// The received request's signature is the one recomputed from its own headers and body,
    /// by our signer and by botocore's `SigV4Auth`; the session token and date are sent.
    @Test func signatureVerifies() async throws {
        let server = try await WireTestServer.start { _ in Self.stream(EventStreamFixture.converse) }
        defer { server.shutdown() }
        let token = "FQoGZXIvYXdzEXAMPLE//token+with/slashes=="
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.secret, sessionToken: token)
        let before = Date()
        _ = await collect(Self.model(server, credentials: credentials).stream(Self.request))
        _ = try? await Self.model(server, credentials: credentials).complete(Self.request)
        #expect(server.requests.count == 2)
        for sent in server.requests {
            #expect(sent.header("x-amz-security-token") == token)
            #expect(sent.header("x-amz-content-sha256") == nil, "not sent: Bedrock, unlike S3, does not need it")
            let date = try #require(sent.header("x-amz-date"))
            #expect(date.count == 16 && date.hasSuffix("Z"))
            #expect(abs(Self.parseAmzDate(date).timeIntervalSince(before)) < 60)
            #expect(sent.header("host") == "127.0.0.1:\(server.port)")
            let authorization = try #require(sent.header("authorization"))
            #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\(date.prefix(8))/us-east-1/bedrock/aws4_request, "))
            #expect(authorization.contains("SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token,"))
            try Self.verifySignature(sent, credentials: credentials, region: "us-east-1")
            try Self.verifyWithBotocore(sent, token: token)
        }
    }

    static func parseAmzDate(_ text: String) -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.date(from: text) ?? .distantPast
    }

    static func signedHeaderNames(_ authorization: String) -> [String] {
        guard let range = authorization.range(of: "SignedHeaders=") else { return [] }
        return authorization[range.upperBound...].prefix { $0 != "," }.split(separator: ";").map(String.init)
    }

    /// Recomputes the Authorization header from what the server received.
    static func verifySignature(_ sent: WireTestServer.Request, credentials: AWSCredentials, region: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let authorization = try #require(sent.header("authorization"), sourceLocation: sourceLocation)
        let date = try #require(sent.header("x-amz-date"), sourceLocation: sourceLocation)
        let names = signedHeaderNames(authorization)
        let headers = names.map { (name: $0, value: sent.header($0) ?? "") }
        let path = String(sent.uri.prefix { $0 != "?" })
        let request = SigV4Signer.Request(method: sent.method, path: path, headers: headers, body: sent.body)
        let recomputed = SigV4Signer(credentials: credentials, region: region, service: "bedrock").authorization(for: request, amzDate: date)
        #expect(recomputed == authorization, sourceLocation: sourceLocation)
    }

    /// botocore signs the same request (as received) and must arrive at the same signature.
    static func verifyWithBotocore(_ sent: WireTestServer.Request, token: String?) throws {
        let authorization = try #require(sent.header("authorization"))
        let date = try #require(sent.header("x-amz-date"))
        let own: Set<String> = ["host", "x-amz-date", "x-amz-security-token"]  // botocore adds these itself
        let headers = signedHeaderNames(authorization).filter { !own.contains($0) }.map { [$0, sent.header($0) ?? ""] }
        let input: [[String: Any]] = [[
            "method": sent.method, "url": "http://\(sent.header("host") ?? "")\(sent.uri)", "body": sent.bodyText,
            "region": "us-east-1", "service": "bedrock", "headers": headers, "token": token as Any, "timestamp": date,
        ]]
        let script = Fixture.root.appendingPathComponent("botocore_sigv4.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: input))
        try stdin.fileHandleForWriting.close()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 with botocore must be available")
        let out = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: String]])
        let signature = try #require(out.first?["signature"])
        #expect(authorization.hasSuffix("Signature=\(signature)"), "botocore signs it \(signature): \(authorization)")
    }

    // MARK: Configuration

    static func tempDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("harness-aws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Credentials from a shared credentials file profile, region from the config file, the
    /// endpoint from AWS_ENDPOINT_URL: the request is signed with the profile's key.
    @Test func credentialsFromASharedFileProfile() async throws {
        let dir = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let credentialsFile = dir.appendingPathComponent("credentials")
        try """
            # comment
            [default]
            aws_access_key_id = AKIADEFAULTDEFAULT00
            aws_secret_access_key = defaultsecretdefaultsecret

            [dev]\r
            AWS_Access_Key_ID=AKIADEVDEVDEVDEV0000\r
            aws_secret_access_key  =  devSecret/with+chars=\r
            ; another comment
            aws_session_token = devToken==
            """.write(to: credentialsFile, atomically: true, encoding: .utf8)
        let configFile = dir.appendingPathComponent("config")
        try "[default]\nregion = us-west-2\n\n[profile dev]\nregion = eu-west-1\noutput = json\n".write(to: configFile, atomically: true, encoding: .utf8)

        let server = try await WireTestServer.start { _ in Self.stream(EventStreamFixture.converse) }
        defer { server.shutdown() }
        let environment = [
            "HOME": dir.path, "AWS_SHARED_CREDENTIALS_FILE": credentialsFile.path, "AWS_CONFIG_FILE": configFile.path,
            "AWS_PROFILE": "dev", "AWS_ENDPOINT_URL": server.baseURL,
        ]
        let model = try BedrockModel(environment: environment)
        #expect(model.region == "eu-west-1")
        #expect(model.credentials.accessKeyID == "AKIADEVDEVDEVDEV0000")
        #expect(model.credentials.secretAccessKey == "devSecret/with+chars=")
        #expect(model.credentials.sessionToken == "devToken==")
        let (_, error) = await collect(model.stream(Self.request))
        #expect(error == nil)
        let sent = try #require(server.requests.first)
        #expect(sent.header("authorization")?.contains("Credential=AKIADEVDEVDEVDEV0000/") == true)
        #expect(sent.header("authorization")?.contains("/eu-west-1/bedrock/aws4_request") == true)
        #expect(sent.header("x-amz-security-token") == "devToken==")
        try Self.verifySignature(sent, credentials: model.credentials, region: "eu-west-1")

        // The default profile; ~/.aws/credentials under HOME; env region wins over the file.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".aws"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: credentialsFile, to: dir.appendingPathComponent(".aws/credentials"))
        let fallback = try BedrockModel(environment: ["HOME": dir.path, "AWS_DEFAULT_REGION": "ap-south-1", "AWS_CONFIG_FILE": configFile.path])
        #expect(fallback.credentials.accessKeyID == "AKIADEFAULTDEFAULT00")
        #expect(fallback.credentials.sessionToken == nil)
        #expect(fallback.region == "ap-south-1")
        #expect(fallback.settings.baseURL == "https://bedrock-runtime.ap-south-1.amazonaws.com")
        // Environment variables win over the files.
        let env = try AWSConfiguration.credentials(environment: [
            "HOME": dir.path, "AWS_ACCESS_KEY_ID": "AKIAENVENVENVENV0000", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "envtoken",
        ])
        #expect(env.accessKeyID == "AKIAENVENVENVENV0000" && env.sessionToken == "envtoken")
    }

    @Test func missingConfigurationIsNamed() throws {
        let dir = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let home = ["HOME": dir.path]
        func message(_ environment: [String: String]) -> String {
            do {
                _ = try BedrockModel(environment: environment)
                return "no error"
            } catch let error as ProviderConfigurationError {
                return error.description
            } catch {
                return "unexpected \(error)"
            }
        }
        let noRegion = message(home.merging(["AWS_ACCESS_KEY_ID": "AKIAXXXXXXXXXXXXXXXX", "AWS_SECRET_ACCESS_KEY": Self.secret]) { $1 })
        #expect(noRegion.hasPrefix("bedrock: no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION)"), "\(noRegion)")
        #expect(noRegion.contains("\(dir.path)/.aws/config"))
        #expect(!noRegion.contains(Self.secret))

        let noCredentials = message(home.merging(["AWS_REGION": "us-east-1"]) { $1 })
        #expect(noCredentials.contains("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"), "\(noCredentials)")
        #expect(noCredentials.contains("profile 'default' of \(dir.path)/.aws/credentials (the file does not exist)"))

        let halfEnv = message(home.merging(["AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIAXXXXXXXXXXXXXXXX"]) { $1 })
        #expect(halfEnv == "bedrock: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        let badRegion = message(home.merging(["AWS_REGION": "us-east-1.evil.com/x"]) { $1 })
        #expect(badRegion.contains("is not an AWS region name"))

        let file = dir.appendingPathComponent("creds")
        try "[default]\naws_access_key_id = AKIAONLYKEYID0000000\n[prod]\naws_secret_access_key = \(Self.secret)\n[sso]\nsso_session = corp\nregion = us-east-1\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let base = home.merging(["AWS_REGION": "us-east-1", "AWS_SHARED_CREDENTIALS_FILE": file.path]) { $1 }
        let noSecret = message(base)
        #expect(noSecret == "bedrock: profile 'default' in \(file.path) has no aws_secret_access_key", "\(noSecret)")
        let noKeyID = message(base.merging(["AWS_PROFILE": "prod"]) { $1 })
        #expect(noKeyID == "bedrock: profile 'prod' (AWS_PROFILE) in \(file.path) has no aws_access_key_id", "\(noKeyID)")
        #expect(!noKeyID.contains(Self.secret))
        let unknown = message(base.merging(["AWS_PROFILE": "staging"]) { $1 })
        #expect(unknown.contains("profile 'staging' (AWS_PROFILE) is in neither \(file.path) nor"), "\(unknown)")
        #expect(unknown.contains("profiles found: default, prod, sso"))
        let sso = message(base.merging(["AWS_PROFILE": "sso"]) { $1 })
        #expect(sso.contains("gets its credentials through sso_session, which Harness does not resolve"), "\(sso)")
        #expect(sso.contains("aws configure export-credentials --profile sso --format env"))
    }

    /// The secret key and session token appear in no description, dump, or error — even when
    /// the server echoes them back.
    @Test func secretNeverShown() async throws {
        let token = "SESSIONTOKENSESSIONTOKEN0123"
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.secret, sessionToken: token)
        let server = try await WireTestServer.start { _ in
            .json(
                #"{"message":"The request signature we calculated does not match. Secret: \#(Self.secret) token \#(token)"}"#,
                status: 403, headers: [("x-amzn-ErrorType", "InvalidSignatureException")]
            )
        }
        defer { server.shutdown() }
        let model = Self.model(server, credentials: credentials)
        let error = await collect(model.stream(Self.request)).error
        var dumped = ""
        dump(model, to: &dumped)
        dump(credentials, to: &dumped)
        for text in [String(describing: error), "\(model)", String(reflecting: model), "\(credentials)", String(reflecting: credentials), dumped] {
            #expect(!text.contains(Self.secret), "\(text)")
            #expect(!text.contains(token), "\(text)")
        }
        #expect(String(describing: error).contains("[redacted]"))
        #expect("\(model)".contains("AKIDEXAMPLE"))
    }
}

extension BedrockModel {
    /// `complete` as the protocol's default builds it from the stream.
    func streamCollected(_ request: ModelRequest) async throws -> ModelResponse {
        var accumulator = ModelStreamAccumulator()
        for try await event in stream(request) { accumulator.add(event) }
        return accumulator.response
    }
}
