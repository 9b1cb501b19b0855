//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Harness
import Prometheus
import CoreMetrics
import HarnessConfig
public import HarnessCore

/// Turns a model's events into OpenAI `chat.completion.chunk` server-sent events.
///
/// What every chunk of a stream shares (the id, the model, `created`) is written once; a
/// chunk is that prefix, its `delta`, and the finish reason.
struct OpenAIStreamEncoder {
    let id: String
    let model: String
    let created: Int
    let includeUsage: Bool
    private var toolIndex: [String: Int] = [:]
    private var usage: Usage? = nil
    /// `data: {"id":…,"object":"chat.completion.chunk","created":…,"model":…,"choices":[{"index":0,"delta":`
    private let prefix: [UInt8]

    init(id: String, model: String, created: Int, includeUsage: Bool) {
        self.id = id
        self.model = model
        self.created = created
        self.includeUsage = includeUsage
        var prefix = Array(#"data: {"id":"#.utf8)
        JSONValue.writeString(id, into: &prefix)
        prefix.append(contentsOf: #","object":"chat.completion.chunk","created":"#.utf8)
        prefix.append(contentsOf: String(created).utf8)
        prefix.append(contentsOf: #","model":"#.utf8)
        JSONValue.writeString(model, into: &prefix)
        prefix.append(contentsOf: #","choices":[{"index":0,"delta":"#.utf8)
        self.prefix = prefix
    }

    /// One chunk whose delta `delta` writes (a JSON object), then its finish reason.
    private func chunk(into out: inout [UInt8], finish: String? = nil, delta: (inout [UInt8]) -> Void) {
        out.append(contentsOf: prefix)
        delta(&out)
        out.append(contentsOf: #","logprobs":null,"finish_reason":"#.utf8)
        if let finish { JSONValue.writeString(finish, into: &out) } else { out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: "}]}\n\n".utf8)
    }

    /// One chunk whose delta is the object `body` writes.
    private func chunk(into out: inout [UInt8], _ body: (inout JSONWriter) -> Void) {
        chunk(into: &out) { out in
            var w = JSONWriter(capacity: 128)
            w.object(body)
            out.append(contentsOf: w.bytes)
        }
    }

    /// The first chunk: the assistant role.
    func start(into out: inout [UInt8]) {
        chunk(into: &out) { out in out.append(contentsOf: #"{"role":"assistant","content":""}"#.utf8) }
    }

    mutating func encode(_ event: ModelStreamEvent, into out: inout [UInt8]) {
        switch event {
        case .textDelta(let text):
            guard !text.isEmpty else { return }
            chunk(into: &out) { out in
                out.append(contentsOf: #"{"content":"#.utf8)
                JSONValue.writeString(text, into: &out)
                out.append(UInt8(ascii: "}"))
            }
        case .toolCallStart(let callID, let name):
            let index = toolIndex.count
            toolIndex[callID] = index
            chunk(into: &out) { w in
                w.key("tool_calls")
                w.array { w in
                    w.object { w in
                        w.key("index"); w.int(index)
                        w.key("id"); w.string(callID)
                        w.key("type"); w.string("function")
                        w.key("function")
                        w.object { w in
                            w.key("name"); w.string(name)
                            w.key("arguments"); w.string("")
                        }
                    }
                }
            }
        case .toolCallArgumentsDelta(let callID, let delta):
            guard let index = toolIndex[callID], !delta.isEmpty else { return }
            chunk(into: &out) { w in
                w.key("tool_calls")
                w.array { w in
                    w.object { w in
                        w.key("index"); w.int(index)
                        w.key("function")
                        w.object { w in w.key("arguments"); w.string(delta) }
                    }
                }
            }
        case .toolCallComplete(let call):
            // A call that arrived whole (no start event) is sent as one piece.
            guard toolIndex[call.id] == nil else { return }
            encode(.toolCallStart(id: call.id, name: call.name), into: &out)
            encode(.toolCallArgumentsDelta(id: call.id, delta: call.rawArguments), into: &out)
        case .seam(let seam):
            SSE.seamComment(seam, into: &out)
        case .usage(let u):
            usage = u
        case .finish(let reason, _):
            chunk(into: &out, finish: OpenAIServerWire.finishReason(reason)) { out in out.append(contentsOf: "{}".utf8) }
            if includeUsage {
                var w = JSONWriter(capacity: 256)
                w.object { w in
                    w.key("id"); w.string(id)
                    w.key("object"); w.string("chat.completion.chunk")
                    w.key("created"); w.int(created)
                    w.key("model"); w.string(model)
                    w.key("choices"); w.array { _ in }
                    w.key("usage"); OpenAIServerWire.writeUsage(usage ?? .zero, into: &w)
                }
                SSE.frame(data: w.bytes, into: &out)
            }
            out.append(contentsOf: "data: [DONE]\n\n".utf8)
        }
    }

    /// An error after the stream started: OpenAI sends it as a data event, then the stream ends.
    static func error(_ error: GatewayError, into out: inout [UInt8]) {
        SSE.frame(data: error.openAIBody, into: &out)
    }
}

/// Turns a model's events into the Anthropic Messages event sequence: `message_start`,
/// `content_block_start` / `content_block_delta` / `content_block_stop` per block, `ping`,
/// `message_delta` (stop reason and usage) and `message_stop`.
struct AnthropicStreamEncoder {
    let id: String
    let model: String
    private var nextIndex = 0
    /// The open text block's index.
    private var textBlock: Int? = nil
    /// Open tool-use blocks by call id.
    private var toolBlocks: [String: Int] = [:]
    private var openOrder: [Int] = []
    private var usage: Usage? = nil
    private var pinged = false

    init(id: String, model: String) {
        self.id = id
        self.model = model
    }

    private static func event(_ name: String, into out: inout [UInt8], _ body: (inout JSONWriter) -> Void) {
        var w = JSONWriter(capacity: 160)
        w.object(body)
        SSE.frame(event: name, data: w.bytes, into: &out)
    }

    func start(inputTokens: Int, into out: inout [UInt8]) {
        Self.event("message_start", into: &out) { w in
            w.key("type"); w.string("message_start")
            w.key("message")
            w.object { w in
                w.key("id"); w.string(id)
                w.key("type"); w.string("message")
                w.key("role"); w.string("assistant")
                w.key("model"); w.string(model)
                w.key("content"); w.array { _ in }
                w.key("stop_reason"); w.null()
                w.key("stop_sequence"); w.null()
                w.key("usage")
                w.object { w in
                    w.key("input_tokens"); w.int(inputTokens)
                    w.key("output_tokens"); w.int(0)
                }
            }
        }
    }

    private mutating func open(_ block: (inout JSONWriter) -> Void, into out: inout [UInt8]) -> Int {
        let index = nextIndex
        nextIndex += 1
        openOrder.append(index)
        Self.event("content_block_start", into: &out) { w in
            w.key("type"); w.string("content_block_start")
            w.key("index"); w.int(index)
            w.key("content_block"); w.object(block)
        }
        if !pinged {
            pinged = true
            Self.event("ping", into: &out) { w in w.key("type"); w.string("ping") }
        }
        return index
    }

    private mutating func close(_ index: Int, into out: inout [UInt8]) {
        guard let at = openOrder.firstIndex(of: index) else { return }
        openOrder.remove(at: at)
        Self.event("content_block_stop", into: &out) { w in
            w.key("type"); w.string("content_block_stop")
            w.key("index"); w.int(index)
        }
    }

    private func delta(_ index: Int, into out: inout [UInt8], _ body: (inout JSONWriter) -> Void) {
        Self.event("content_block_delta", into: &out) { w in
            w.key("type"); w.string("content_block_delta")
            w.key("index"); w.int(index)
            w.key("delta"); w.object(body)
        }
    }

    mutating func encode(_ event: ModelStreamEvent, into out: inout [UInt8]) {
        switch event {
        case .textDelta(let text):
            guard !text.isEmpty else { return }
            let index: Int
            if let open = textBlock {
                index = open
            } else {
                index = open({ w in
                    w.key("type"); w.string("text")
                    w.key("text"); w.string("")
                }, into: &out)
                textBlock = index
            }
            delta(index, into: &out) { w in
                w.key("type"); w.string("text_delta")
                w.key("text"); w.string(text)
            }
        case .toolCallStart(let callID, let name):
            if let text = textBlock {
                close(text, into: &out)
                textBlock = nil
            }
            toolBlocks[callID] = open({ w in
                w.key("type"); w.string("tool_use")
                w.key("id"); w.string(callID)
                w.key("name"); w.string(name)
                w.key("input"); w.object { _ in }
            }, into: &out)
        case .toolCallArgumentsDelta(let callID, let fragment):
            guard let index = toolBlocks[callID], !fragment.isEmpty else { return }
            delta(index, into: &out) { w in
                w.key("type"); w.string("input_json_delta")
                w.key("partial_json"); w.string(fragment)
            }
        case .toolCallComplete(let call):
            if toolBlocks[call.id] == nil {
                encode(.toolCallStart(id: call.id, name: call.name), into: &out)
                encode(.toolCallArgumentsDelta(id: call.id, delta: call.rawArguments), into: &out)
            }
            if let index = toolBlocks[call.id] { close(index, into: &out) }
        case .seam(let seam):
            SSE.seamComment(seam, into: &out)
        case .usage(let u):
            usage = u
        case .finish(let reason, _):
            for index in openOrder { close(index, into: &out) }
            textBlock = nil
            let usage = self.usage ?? .zero
            Self.event("message_delta", into: &out) { w in
                w.key("type"); w.string("message_delta")
                w.key("delta")
                w.object { w in
                    w.key("stop_reason"); w.string(AnthropicServerWire.stopReason(reason))
                    w.key("stop_sequence"); w.null()
                }
                w.key("usage"); AnthropicServerWire.writeUsage(usage, into: &w)
            }
            Self.event("message_stop", into: &out) { w in w.key("type"); w.string("message_stop") }
        }
    }

    /// An error after the stream started: an `error` event, then the stream ends.
    static func error(_ error: GatewayError, into out: inout [UInt8]) {
        SSE.frame(event: "error", data: error.anthropicBody, into: &out)
    }
}

/// Server-sent event framing.
enum SSE {
    /// A resumed stream's seam as an SSE comment (`: harness-seam {…}`): clients of either
    /// format ignore comments, so the stream stays valid, while the seam stays visible to
    /// anyone reading the raw stream.
    static func seamComment(_ seam: StreamSeam, into out: inout [UInt8]) {
        var w = JSONWriter(capacity: 128)
        w.object { w in
            w.key("attempt"); w.int(seam.attempt)
            w.key("from_route"); w.stringOrNull(seam.fromRoute)
            w.key("to_route"); w.stringOrNull(seam.toRoute)
            w.key("reason"); w.string(seam.reason)
            w.key("delivered_characters"); w.int(seam.deliveredCharacters)
        }
        out.append(contentsOf: ": harness-seam ".utf8)
        out.append(contentsOf: w.bytes)
        out.append(contentsOf: "\n\n".utf8)
    }

    static func frame(event: String? = nil, data: [UInt8], into out: inout [UInt8]) {
        if let event {
            out.append(contentsOf: "event: ".utf8)
            out.append(contentsOf: event.utf8)
            out.append(UInt8(ascii: "\n"))
        }
        out.append(contentsOf: "data: ".utf8)
        out.append(contentsOf: data)
        out.append(contentsOf: "\n\n".utf8)
    }
}

/// Test and tooling access to the Anthropic encoder: the events it writes, parsed.
public struct AnthropicStreamEncoderProbe {
    public struct Event {
        public var name: String
        public var data: JSONValue
    }

    var encoder: AnthropicStreamEncoder
    var bytes: [UInt8] = []

    public init(id: String, model: String) {
        encoder = AnthropicStreamEncoder(id: id, model: model)
        encoder.start(inputTokens: 0, into: &bytes)
    }

    public mutating func add(_ event: ModelStreamEvent) {
        encoder.encode(event, into: &bytes)
    }

    /// Every event written so far.
    public var events: [Event] {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: "\n\n").compactMap { block in
            var name = ""
            var data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
            }
            guard !name.isEmpty, let json = try? JSONValue(parsing: data) else { return nil }
            return Event(name: name, data: json)
        }
    }
}
