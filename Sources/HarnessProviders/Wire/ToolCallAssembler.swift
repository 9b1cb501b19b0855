//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// Builds tool calls from streamed fragments, whatever way a wire format splits them, and
/// emits the `toolCallStart` / `toolCallArgumentsDelta` / `toolCallComplete` events.
///
/// Calls are keyed by the wire format's own handle (OpenAI's `tool_calls[].index`, Anthropic's
/// content block index, an item id). A call completes only when the format says so; one
/// still open when the stream breaks is never completed.
public struct ToolCallAssembler: Sendable {
    /// A call's handle: a wire format's string, or an integer index (OpenAI's), kept apart
    /// so that finding a call by index neither formats nor hashes a string.
    private enum Key: Hashable, Sendable, CustomStringConvertible {
        case name(String)
        case index(Int)

        var description: String {
            switch self {
            case .name(let name): name
            case .index(let index): String(index)
            }
        }
    }

    private struct Pending: Sendable {
        var key: Key
        var id: String
        var name: String
        var arguments: String
        var started: Bool
    }

    /// Open calls in the order they began. Changed in place, so that appending to a call's
    /// arguments does not copy them (a long argument string would otherwise cost O(n²)).
    private var pending: [Pending] = []
    /// Where each key is in `pending`: empty, or exact. Built only once more calls are open
    /// than a linear search handles well; emptied whenever a call leaves `pending`.
    private var positions: [Key: Int] = [:]
    private static let linearSearchLimit = 8
    private var generated = 0

    public init() {}

    /// Whether any call is open.
    public var hasOpenCalls: Bool { !pending.isEmpty }

    /// The ids of calls still open.
    public var openCallIDs: [String] { pending.map(\.id) }

    /// A fragment of the call under `key`: its id and name (when this fragment carries them)
    /// and more argument text.
    public mutating func add(
        key: String,
        id: String? = nil,
        name: String? = nil,
        arguments: String = "",
        into events: inout [ModelStreamEvent]
    ) {
        add(.name(key), id: id, name: name, arguments: arguments, into: &events)
    }

    /// A fragment of the call under the integer `index` (a handle apart from every string
    /// key): its id and name (when this fragment carries them) and more argument text.
    mutating func add(
        index: Int,
        id: String? = nil,
        name: String? = nil,
        arguments: String = "",
        into events: inout [ModelStreamEvent]
    ) {
        add(.index(index), id: id, name: name, arguments: arguments, into: &events)
    }

    private mutating func add(_ key: Key, id: String?, name: String?, arguments: String, into events: inout [ModelStreamEvent]) {
        let slot: Int
        if let found = position(of: key) {
            slot = found
        } else {
            slot = pending.count
            pending.append(Pending(key: key, id: "", name: "", arguments: "", started: false))
            if !positions.isEmpty { positions[key] = slot }
        }
        Self.update(&pending[slot], id: id, name: name, arguments: arguments, generated: &generated, into: &events)
    }

    private static func update(
        _ call: inout Pending,
        id: String?,
        name: String?,
        arguments: String,
        generated: inout Int,
        into events: inout [ModelStreamEvent]
    ) {
        if !call.started {
            if let id, !id.isEmpty { call.id = id }
            if let name, !name.isEmpty { call.name = name }
            if !call.name.isEmpty {
                if call.id.isEmpty {
                    generated += 1
                    call.id = "call_\(generated)_\(call.key)"
                }
                call.started = true
                events.append(.toolCallStart(id: call.id, name: call.name))
                if !call.arguments.isEmpty {
                    events.append(.toolCallArgumentsDelta(id: call.id, delta: call.arguments))
                }
            }
        }
        if !arguments.isEmpty {
            call.arguments += arguments
            if call.started { events.append(.toolCallArgumentsDelta(id: call.id, delta: arguments)) }
        }
    }

    private mutating func position(of key: Key) -> Int? {
        if pending.count <= Self.linearSearchLimit {
            return pending.firstIndex { $0.key == key }
        }
        if positions.isEmpty {
            positions.reserveCapacity(pending.count)
            for (i, call) in pending.enumerated() { positions[call.key] = i }
        }
        return positions[key]
    }

    /// The call under `key` is complete. Empty arguments count as `{}`.
    public mutating func complete(key: String, into events: inout [ModelStreamEvent]) {
        guard let slot = position(of: .name(key)) else { return }
        let call = pending.remove(at: slot)
        positions.removeAll()
        complete(call, into: &events)
    }

    private mutating func complete(_ call: Pending, into events: inout [ModelStreamEvent]) {
        var call = call
        if !call.started {
            if call.id.isEmpty {
                generated += 1
                call.id = "call_\(generated)_\(call.key)"
            }
            events.append(.toolCallStart(id: call.id, name: call.name))
            if !call.arguments.isEmpty { events.append(.toolCallArgumentsDelta(id: call.id, delta: call.arguments)) }
        }
        let raw = call.arguments.allSatisfy(\.isWhitespace) ? "{}" : call.arguments
        events.append(.toolCallComplete(ToolCall(id: call.id, name: call.name, rawArguments: raw)))
    }

    /// Every open call is complete, in the order they began.
    public mutating func completeAll(into events: inout [ModelStreamEvent]) {
        guard !pending.isEmpty else { return }
        for i in pending.indices { complete(pending[i], into: &events) }
        pending.removeAll(keepingCapacity: true)
        positions.removeAll()
    }

    /// A whole call that arrived in one piece (Gemini, Ollama, non-streamed answers).
    public mutating func whole(id: String?, name: String, arguments: String, into events: inout [ModelStreamEvent]) {
        generated += 1
        let key = "whole-\(generated)"
        add(key: key, id: id ?? "call_\(generated)", name: name, arguments: arguments, into: &events)
        complete(key: key, into: &events)
    }
}
