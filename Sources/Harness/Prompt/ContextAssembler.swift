//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// What ``ContextAssembler`` kept.
public struct AssembledContext: Sendable, Hashable {
    /// The system prompt (always kept).
    public var system: String?
    /// The history kept, oldest first: a suffix of the input, whole tool-call groups only.
    public var history: [Message]
    /// The snippets kept, best score first.
    public var snippets: [Snippet]
    /// Tokens of everything kept.
    public var tokenCount: Int
    /// Messages of the input history left out.
    public var droppedMessages: Int
    /// Snippets left out.
    public var droppedSnippets: Int
}

/// Packs history and scored snippets into a token budget.
///
/// The rules, in order:
/// 1. The system prompt is always kept.
/// 2. The latest history unit (usually the user's new message) is kept.
/// 3. Snippets are taken best score first, at most `maxSnippets`, within
///    `snippetShare` of what the budget has left; a snippet too large is skipped for smaller ones.
/// 4. Older history fills what is left, newest first; the oldest is dropped first.
///
/// An assistant message with tool calls and the tool messages answering it form one unit,
/// kept or dropped together, and tool results whose call is not in the history are dropped:
/// the packed history never breaks a provider's pairing rule (Anthropic's 400 on an
/// orphaned `tool_use` or `tool_result`).
public struct ContextAssembler<Counter: TokenCounter>: Sendable {
    /// The most tokens of prompt to assemble.
    public var tokenBudget: Int
    /// The most snippets to include.
    public var maxSnippets: Int
    /// The share (0…1) of the budget left after the system prompt and latest turn that
    /// snippets may take.
    public var snippetShare: Double
    /// How tokens are counted.
    public var counter: Counter

    public init(tokenBudget: Int, maxSnippets: Int = 10, snippetShare: Double = 0.5, counter: Counter) {
        self.tokenBudget = tokenBudget
        self.maxSnippets = max(0, maxSnippets)
        self.snippetShare = min(1, max(0, snippetShare))
        self.counter = counter
    }

    /// Packs `history` and `snippets` under the budget.
    public func assemble(system: String?, history: [Message], snippets: [Snippet]) -> AssembledContext {
        var used = system.map { counter.count($0) + 4 } ?? 0
        var firstKept = history.count  // history[firstKept...] is kept, less orphans
        var orphans: [Range<Int>] = []  // tool results whose call is gone: never sent

        // 2. The latest unit is kept even when it alone exceeds the budget: without it there
        // is no question to answer. Everything else must fit.
        while let u = Self.unit(endingAt: firstKept, in: history) {
            firstKept = u.start
            if u.valid {
                used += tokens(history, u)
                break
            }
            orphans.append(u.start..<u.end)
        }

        // 3. Snippets, best first.
        let chosen = topSnippets(snippets)
        let snippetBudget = Int(Double(max(0, tokenBudget - used)) * snippetShare)
        var snippetUsed = 0
        var kept: [Snippet] = []
        kept.reserveCapacity(chosen.count)
        for s in chosen {
            let cost = (s.tokenCount ?? counter.count(s.text)) + 2
            if snippetUsed + cost <= snippetBudget {
                snippetUsed += cost
                kept.append(s)
            }
        }
        used += snippetUsed

        // 4. Older history, newest first, stopping at the first unit that does not fit.
        while let u = Self.unit(endingAt: firstKept, in: history) {
            if !u.valid {
                orphans.append(u.start..<u.end)
                firstKept = u.start
                continue
            }
            let cost = tokens(history, u)
            if used + cost > tokenBudget { break }
            used += cost
            firstKept = u.start
        }
        // Orphans at the front of the kept run are simply not part of it.
        while let last = orphans.last, last.lowerBound == firstKept {
            firstKept = last.upperBound
            orphans.removeLast()
        }

        var keptHistory: [Message]
        if orphans.isEmpty {
            keptHistory = firstKept == 0 ? history : Array(history[firstKept...])
        } else {
            keptHistory = []
            keptHistory.reserveCapacity(history.count - firstKept)
            for i in firstKept..<history.count where !orphans.contains(where: { $0.contains(i) }) {
                keptHistory.append(history[i])
            }
        }
        return AssembledContext(
            system: system,
            history: keptHistory,
            snippets: kept,
            tokenCount: used,
            droppedMessages: history.count - keptHistory.count,
            droppedSnippets: snippets.count - kept.count
        )
    }

    /// A run of messages kept or dropped together.
    struct Unit {
        var start: Int
        var end: Int  // exclusive
        /// False for tool results with no call before them.
        var valid: Bool
    }

    /// The unit ending just before `end`, found by walking back: tool results belong to the
    /// assistant message with tool calls right before them.
    static func unit(endingAt end: Int, in history: [Message]) -> Unit? {
        guard end > 0 else { return nil }
        var start = end - 1
        guard history[start].role == .tool else {
            // An assistant message with tool calls but no results yet is a unit of its own.
            return Unit(start: start, end: end, valid: true)
        }
        while start > 0, history[start - 1].role == .tool { start -= 1 }
        guard start > 0, history[start - 1].role == .assistant, hasToolCalls(history[start - 1]) else {
            return Unit(start: start, end: end, valid: false)
        }
        return Unit(start: start - 1, end: end, valid: true)
    }

    static func hasToolCalls(_ message: Message) -> Bool {
        message.content.contains { if case .toolCall = $0 { true } else { false } }
    }

    func tokens(_ history: [Message], _ unit: Unit) -> Int {
        var total = 0
        for k in unit.start..<unit.end { total += counter.count(history[k]) }
        return total
    }

    /// The best `maxSnippets` snippets, best first (ties keep input order).
    func topSnippets(_ snippets: [Snippet]) -> [Snippet] {
        guard maxSnippets > 0, !snippets.isEmpty else { return [] }
        var top: [Snippet] = []
        top.reserveCapacity(maxSnippets + 1)
        for s in snippets {
            if top.count == maxSnippets, let last = top.last, s.score <= last.score { continue }
            // Insertion into a short sorted array.
            var k = top.count
            while k > 0, top[k - 1].score < s.score { k -= 1 }
            top.insert(s, at: k)
            if top.count > maxSnippets { top.removeLast() }
        }
        return top
    }
}

extension ContextAssembler where Counter == HeuristicTokenCounter {
    /// An assembler with the default heuristic counter.
    public init(tokenBudget: Int, maxSnippets: Int = 10, snippetShare: Double = 0.5) {
        self.init(tokenBudget: tokenBudget, maxSnippets: maxSnippets, snippetShare: snippetShare, counter: HeuristicTokenCounter())
    }
}
