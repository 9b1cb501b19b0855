//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// What the caller of a resumed stream has seen, and how a broken stream is continued.
///
/// Events pass through ``admit(_:)``: text is kept, tool calls are tracked by id (the
/// idempotency key), usage is summed across attempts and delivered once, and `finish` is
/// held until the attempt ends. After a break, ``breakOff(reason:fromRoute:)`` drops the
/// calls that were started but not completed and prepares the seam; the continuation's
/// request carries the partial output (``request(continuing:instruction:)``), and its
/// events for calls completed before the break are not delivered again.
public struct StreamContinuation: Sendable {
    /// The default instruction sent after the partial answer.
    public static let defaultInstruction = """
        Your previous answer was cut off by a connection failure. Continue it exactly where it \
        stopped, without repeating anything already written.
        """

    /// Answer text delivered so far.
    public private(set) var text = ""
    /// Tool calls completed and delivered, in order.
    public private(set) var completed: [ToolCall] = []
    /// Calls started (delivered) but not completed, in order.
    public private(set) var open: [String] = []
    /// Usage summed over the attempts.
    public private(set) var usage: Usage?
    /// The held `finish` of the current attempt.
    public private(set) var finish: ModelStreamEvent?
    /// Whether any output (text or tool call events) was delivered.
    public private(set) var hasOutput = false
    /// The seam to deliver before the next output, after a break.
    public private(set) var pendingSeam: StreamSeam?
    /// Ids of the current attempt's calls that repeat completed ones: not delivered.
    private var suppressed: Set<String> = []
    private var attempt = 1

    public init() {}

    /// Takes one event of the current attempt; returns the events to deliver now.
    public mutating func admit(_ event: ModelStreamEvent, route: String? = nil) -> [ModelStreamEvent] {
        var out: [ModelStreamEvent] = []
        switch event {
        case .usage(let u):
            usage = (usage ?? .zero) + u
            return []
        case .finish:
            finish = event
            return []
        case .textDelta(let t):
            text += t
            out.append(event)
        case .toolCallStart(let id, _):
            if completed.contains(where: { $0.id == id }) {
                suppressed.insert(id)
                return []
            }
            open.append(id)
            out.append(event)
        case .toolCallArgumentsDelta(let id, _):
            if suppressed.contains(id) { return [] }
            out.append(event)
        case .toolCallComplete(let call):
            if suppressed.contains(call.id) || completed.contains(where: { $0.id == call.id }) { return [] }
            completed.append(call)
            open.removeAll { $0 == call.id }
            out.append(event)
        case .seam:
            out.append(event)
        }
        hasOutput = true
        if var seam = pendingSeam {
            seam.toRoute = route
            pendingSeam = nil
            out.insert(.seam(seam), at: 0)
        }
        return out
    }

    /// The events that end the stream: the summed usage, a seam not yet delivered, and the
    /// held finish.
    public mutating func end() -> [ModelStreamEvent] {
        var out: [ModelStreamEvent] = []
        if let seam = pendingSeam {
            out.append(.seam(seam))
            pendingSeam = nil
        }
        if let usage { out.append(.usage(usage)) }
        if let finish { out.append(finish) }
        return out
    }

    /// The current attempt broke. If output was delivered, prepares the seam and drops the
    /// calls that were cut off; returns whether the next attempt is a continuation.
    @discardableResult
    public mutating func breakOff(reason: String, fromRoute: String? = nil) -> Bool {
        finish = nil
        suppressed = []
        attempt += 1
        guard hasOutput else { return false }
        let dropped = open
        open = []
        if var seam = pendingSeam {
            // A continuation broke before delivering anything: one seam still marks the join.
            seam.attempt = attempt
            seam.droppedToolCallIDs += dropped
            pendingSeam = seam
        } else {
            pendingSeam = StreamSeam(
                attempt: attempt, fromRoute: fromRoute, reason: reason, deliveredCharacters: text.count,
                keptToolCallIDs: completed.map(\.id), droppedToolCallIDs: dropped
            )
        }
        return true
    }

    /// The request that continues `request` from the partial output: the partial answer as
    /// an assistant message, then `instruction` naming the tool calls already requested.
    public func request(continuing request: ModelRequest, instruction: String = Self.defaultInstruction) -> ModelRequest {
        var request = request
        if !text.isEmpty { request.messages.append(.assistant(text)) }
        var note = instruction
        if !completed.isEmpty {
            let calls = completed.map { "\($0.name)(\($0.rawArguments)) [id \($0.id)]" }.joined(separator: ", ")
            note += " These tool calls were already requested and will be run; do not request them again: \(calls)."
        }
        request.messages.append(.user(note))
        return request
    }
}
