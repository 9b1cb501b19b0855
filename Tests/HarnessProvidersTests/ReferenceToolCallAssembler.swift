//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore

/// The tool call assembler as it was before it kept calls in an array (a copy of that
/// version, renamed): the reference ToolCallAssemblerTests checks the current one against.
struct ReferenceToolCallAssembler {
    private struct Pending: Sendable {
        var id: String
        var name: String
        var arguments: String
        var started: Bool
    }

    private var pending: [String: Pending] = [:]
    private var order: [String] = []
    private var generated = 0

    init() {}

    /// Whether any call is open.
    var hasOpenCalls: Bool { !order.isEmpty }

    /// The ids of calls still open.
    var openCallIDs: [String] { order.compactMap { pending[$0]?.id } }

    /// A fragment of the call under `key`: its id and name (when this fragment carries them)
    /// and more argument text.
    mutating func add(
        key: String,
        id: String? = nil,
        name: String? = nil,
        arguments: String = "",
        into events: inout [ModelStreamEvent]
    ) {
        // Taken out of the dictionary while it changes, so that appending to its arguments
        // does not copy them (a long argument string would otherwise cost O(n²)).
        var call: Pending
        if let existing = pending.removeValue(forKey: key) {
            call = existing
        } else {
            call = Pending(id: "", name: "", arguments: "", started: false)
            order.append(key)
        }
        if !call.started {
            if let id, !id.isEmpty { call.id = id }
            if let name, !name.isEmpty { call.name = name }
            if !call.name.isEmpty {
                if call.id.isEmpty {
                    generated += 1
                    call.id = "call_\(generated)_\(key)"
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
        pending[key] = call
    }

    /// The call under `key` is complete. Empty arguments count as `{}`.
    mutating func complete(key: String, into events: inout [ModelStreamEvent]) {
        guard var call = pending.removeValue(forKey: key) else { return }
        order.removeAll { $0 == key }
        if !call.started {
            if call.id.isEmpty {
                generated += 1
                call.id = "call_\(generated)_\(key)"
            }
            events.append(.toolCallStart(id: call.id, name: call.name))
            if !call.arguments.isEmpty { events.append(.toolCallArgumentsDelta(id: call.id, delta: call.arguments)) }
        }
        let raw = call.arguments.allSatisfy(\.isWhitespace) ? "{}" : call.arguments
        events.append(.toolCallComplete(ToolCall(id: call.id, name: call.name, rawArguments: raw)))
    }

    /// Every open call is complete, in the order they began.
    mutating func completeAll(into events: inout [ModelStreamEvent]) {
        for key in order { complete(key: key, into: &events) }
    }

    /// A whole call that arrived in one piece (Gemini, Ollama, non-streamed answers).
    mutating func whole(id: String?, name: String, arguments: String, into events: inout [ModelStreamEvent]) {
        generated += 1
        let key = "whole-\(generated)"
        add(key: key, id: id ?? "call_\(generated)", name: name, arguments: arguments, into: &events)
        complete(key: key, into: &events)
    }
}
