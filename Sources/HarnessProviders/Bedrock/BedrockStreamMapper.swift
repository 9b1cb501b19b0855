//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// Maps a ConverseStream body (AWS event stream framing) to ModelStreamEvents.
///
/// - `contentBlockStart` with `start.toolUse` opens a tool call (id, name) under its
///   `contentBlockIndex`; `contentBlockDelta` carries `text` (answer text), `toolUse.input`
///   (argument text fragments) or `reasoningContent` (not answer text; dropped);
///   `contentBlockStop` completes the call at that index.
/// - `messageStop` gives the stop reason (completing any call still open); `metadata` gives
///   usage. The answer finishes once both have arrived — Bedrock sends `metadata` last — with
///   `usage` then `finish`. A body that ends before then is an error.
/// - An `exception` message (`:exception-type` `throttlingException`,
///   `modelStreamErrorException`, `validationException`, `serviceUnavailableException`,
///   `internalServerException`) ends the stream with the matching ``ProviderError``.
public struct BedrockStreamMapper: WireEventMapper {
    private var decoder = AWSEventStreamDecoder()
    private var calls = ToolCallAssembler()
    private var finishReason: FinishReason?
    private var usage: Usage?
    private var done = false
    private let provider: String
    private let requestID: String?
    private let contentType: String?

    /// - Parameter contentType: the response's `content-type`, to explain a body that is not an
    ///   event stream at all.
    public init(provider: String, requestID: String?, contentType: String? = nil) {
        self.provider = provider
        self.requestID = requestID
        self.contentType = contentType
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, into events: inout [ModelStreamEvent]) throws {
        decoder.append(bytes)
        while true {
            let message: AWSEventStreamMessage?
            do {
                message = try decoder.next()
            } catch let error as AWSEventStreamError {
                throw framingError(error)
            }
            guard let message else { return }
            try handle(message, into: &events)
        }
    }

    public mutating func finish(into events: inout [ModelStreamEvent]) throws {
        do {
            try decoder.finish()
        } catch let error as AWSEventStreamError {
            throw framingError(error)
        }
        guard done else {
            let missing = finishReason == nil ? (usage == nil ? "messageStop and metadata" : "messageStop") : "metadata"
            throw WireJSON.truncated(missing, provider: provider, requestID: requestID)
        }
    }

    private func framingError(_ error: AWSEventStreamError) -> ProviderError {
        var text = "the ConverseStream body is not a valid event stream: \(error)"
        if let contentType, !contentType.lowercased().hasPrefix("application/vnd.amazon.eventstream") {
            text += " (the response's content-type is \(contentType), not application/vnd.amazon.eventstream)"
        }
        return ProviderError(.invalidResponse, provider: provider, message: text, requestID: requestID)
    }

    private mutating func handle(_ message: AWSEventStreamMessage, into events: inout [ModelStreamEvent]) throws {
        guard !done else { return }
        switch message.messageType ?? "event" {
        case "event": break
        case "exception", "error":
            throw BedrockWire.streamError(message, provider: provider, requestID: requestID)
        default: return
        }
        guard let type = message.eventType else { return }
        let known = ["contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"]
        guard known.contains(type) else { return }  // messageStart, and events added later
        let json = try WireJSON.parse(bytes: message.payload, provider: provider, requestID: requestID, what: "a \(type) event")
        let key = String(json["contentBlockIndex"]?.intValue ?? 0)
        switch type {
        case "contentBlockStart":
            if let use = json["start"]?["toolUse"] {
                calls.add(key: key, id: use["toolUseId"]?.stringValue, name: use["name"]?.stringValue, into: &events)
            }
        case "contentBlockDelta":
            let delta = json["delta"]
            if let text = delta?["text"]?.stringValue, !text.isEmpty { events.append(.textDelta(text)) }
            if let input = delta?["toolUse"]?["input"]?.stringValue {
                calls.add(key: key, arguments: input, into: &events)
            }
        case "contentBlockStop":
            calls.complete(key: key, into: &events)
        case "messageStop":
            calls.completeAll(into: &events)
            finishReason = BedrockWire.finishReason(json["stopReason"]?.stringValue)
        case "metadata":
            usage = json["usage"].map(BedrockWire.usage) ?? .zero
        default:
            break
        }
        if let finishReason, let usage {
            events.append(.usage(usage))
            events.append(.finish(finishReason, requestID: requestID))
            done = true
        }
    }
}
