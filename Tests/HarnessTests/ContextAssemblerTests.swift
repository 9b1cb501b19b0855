//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import HarnessCore
import Testing

@Suite struct ContextAssemblerTests {
    let counter = HeuristicTokenCounter()

    func assembler(budget: Int, maxSnippets: Int = 10, snippetShare: Double = 0.5) -> ContextAssembler<HeuristicTokenCounter> {
        ContextAssembler(tokenBudget: budget, maxSnippets: maxSnippets, snippetShare: snippetShare, counter: counter)
    }

    func tokens(_ messages: some Sequence<Message>) -> Int {
        messages.reduce(0) { $0 + counter.count($1) }
    }

    // MARK: - Counting

    @Test func heuristicCounterIsFourBytesPerTokenRoundedUp() {
        #expect(counter.count("") == 0)
        #expect(counter.count("abcd") == 1)
        #expect(counter.count("abcde") == 2)
        #expect(counter.count("\u{E9}\u{E9}") == 1)  // four UTF-8 bytes
        #expect(HeuristicTokenCounter(bytesPerToken: 0).bytesPerToken == 1)
        // Messages add 4 for the role, and 3 per tool call or result.
        #expect(counter.count(Message.user("abcd")) == 5)
        let call = ToolCall(id: "c", name: "abcd", rawArguments: "{}")
        #expect(counter.count(Message.assistant("", toolCalls: [call])) == 4 + 1 + 1 + 3)
        #expect(counter.count(Message.tool(ToolResult(toolCallID: "c", name: "abcd", content: "12345678"))) == 4 + 2 + 3)
    }

    // MARK: - Rules

    @Test func systemPromptIsAlwaysKept() {
        let system = String(repeating: "Follow the rules. ", count: 50)
        let result = assembler(budget: 1).assemble(system: system, history: [.user("hi")], snippets: [])
        #expect(result.system == system)
        #expect(result.history == [.user("hi")])
        #expect(result.tokenCount == counter.count(system) + 4 + counter.count(Message.user("hi")))

        let none = assembler(budget: 100).assemble(system: nil, history: [.user("hi")], snippets: [])
        #expect(none.system == nil)
        #expect(none.tokenCount == counter.count(Message.user("hi")))
    }

    @Test func latestMessageIsKeptEvenWhenItAloneExceedsTheBudget() {
        let long = Message.user(String(repeating: "x", count: 4_000))
        let history: [Message] = [.user("a"), .assistant("b"), long]
        let result = assembler(budget: 50).assemble(system: nil, history: history, snippets: [Snippet(text: "s", score: 1)])
        #expect(result.history == [long])
        #expect(result.droppedMessages == 2)
        #expect(result.snippets.isEmpty)
        #expect(result.droppedSnippets == 1)
        #expect(result.tokenCount == counter.count(long))
        #expect(result.tokenCount > 50)
    }

    @Test func oldestHistoryIsDroppedFirst() {
        // Four older messages of 14 tokens each (40 bytes + 4), then a question of 5.
        let history: [Message] = [
            .user(String(repeating: "a", count: 40)),
            .assistant(String(repeating: "b", count: 40)),
            .user(String(repeating: "c", count: 40)),
            .assistant(String(repeating: "d", count: 40)),
            .user("q"),
        ]
        let result = assembler(budget: 33).assemble(system: nil, history: history, snippets: [])
        #expect(result.history == Array(history[2...]))
        #expect(result.tokenCount == 33)
        #expect(result.droppedMessages == 2)

        for budget in 0...80 {
            let kept = assembler(budget: budget).assemble(system: nil, history: history, snippets: []).history
            let expectedCount = 1 + min(4, max(0, (budget - 5) / 14))
            #expect(kept == Array(history.suffix(expectedCount)), "budget \(budget)")
        }
    }

    @Test func toolCallGroupIsKeptOrDroppedWhole() {
        let calls = [
            ToolCall(id: "c1", name: "lookup", arguments: ["q": "a"]),
            ToolCall(id: "c2", name: "lookup", arguments: ["q": "b"]),
        ]
        let history: [Message] = [
            .user("first question"),
            .assistant("", toolCalls: calls),
            .tool(ToolResult(toolCallID: "c1", name: "lookup", content: String(repeating: "r", count: 80))),
            .tool(ToolResult(toolCallID: "c2", name: "lookup", content: String(repeating: "s", count: 80))),
            .assistant("the answer"),
            .user("next question"),
        ]
        let tail = tokens(history[4...])
        let group = tokens(history[1...3])

        // Room for the tail and the last tool message, but not for the whole group.
        let tight = assembler(budget: tail + counter.count(history[3]) + 1).assemble(system: nil, history: history, snippets: [])
        #expect(tight.history == Array(history[4...]))
        #expect(tight.droppedMessages == 4)

        // Room for the group too.
        let roomy = assembler(budget: tail + group).assemble(system: nil, history: history, snippets: [])
        #expect(roomy.history == Array(history[1...]))
        #expect(roomy.tokenCount == tail + group)
    }

    @Test func latestToolGroupIsKeptWhole() {
        let call = ToolCall(id: "c1", name: "lookup", arguments: ["q": .string(String(repeating: "q", count: 400))])
        let history: [Message] = [
            .user("question"),
            .assistant("", toolCalls: [call]),
            .tool(ToolResult(toolCallID: "c1", name: "lookup", content: String(repeating: "r", count: 400))),
        ]
        let result = assembler(budget: 10).assemble(system: nil, history: history, snippets: [])
        #expect(result.history == Array(history[1...]))
    }

    @Test func orphanToolResultIsNeverKeptAtTheStart() {
        let orphan = Message.tool(ToolResult(toolCallID: "gone", name: "lookup", content: "old result"))
        let history: [Message] = [orphan, .assistant("earlier answer"), .user("q")]
        let result = assembler(budget: 10_000).assemble(system: nil, history: history, snippets: [])
        #expect(result.history == [.assistant("earlier answer"), .user("q")])
        #expect(result.droppedMessages == 1)

        let twoOrphans: [Message] = [orphan, orphan, .user("q")]
        #expect(assembler(budget: 10_000).assemble(system: nil, history: twoOrphans, snippets: []).history == [.user("q")])
    }

    @Test func snippetsAreChosenByScoreAtMostMaxSnippets() {
        let scores = [0.1, 0.9, 0.5, 0.7, 0.9]
        let snippets = scores.enumerated().map { Snippet(text: "snippet \($0.offset)", score: $0.element, source: "doc\($0.offset)") }
        let result = assembler(budget: 10_000, maxSnippets: 3).assemble(system: "s", history: [.user("q")], snippets: snippets)
        // Best first; equal scores keep their input order.
        #expect(result.snippets.map(\.source) == ["doc1", "doc4", "doc3"])
        #expect(result.droppedSnippets == 2)

        let none = assembler(budget: 10_000, maxSnippets: 0).assemble(system: nil, history: [.user("q")], snippets: snippets)
        #expect(none.snippets.isEmpty)
        #expect(none.droppedSnippets == 5)
    }

    @Test func snippetsStayWithinTheirShareOfTheBudget() {
        // Budget 100, the question takes 5: 95 left, half of it (47) for snippets, each
        // costing its tokens + 2. A snippet too large is skipped for smaller ones.
        let snippets = [
            Snippet(text: "too big", score: 0.9, tokenCount: 50),  // 52: skipped
            Snippet(text: "b", score: 0.8, tokenCount: 20),  // 22
            Snippet(text: "c", score: 0.7, tokenCount: 20),  // 44
            Snippet(text: "d", score: 0.6, tokenCount: 1),  // 47
            Snippet(text: "e", score: 0.5, tokenCount: 0),  // 49: skipped
        ]
        let result = assembler(budget: 100).assemble(system: nil, history: [.user("q")], snippets: snippets)
        #expect(result.snippets.map(\.text) == ["b", "c", "d"])
        #expect(result.tokenCount == 5 + 47)
        #expect(result.droppedSnippets == 2)

        let noShare = assembler(budget: 100, snippetShare: 0).assemble(system: nil, history: [.user("q")], snippets: snippets)
        #expect(noShare.snippets.isEmpty)
    }

    // MARK: - Property

    static let words = ["alpha", "beta", "gamma", "delta", "tool", "result", "\u{E9}t\u{E9}", "\u{1F600}", "x", "lorem ipsum"]

    static func randomText(_ rng: inout SplitMix64, maxWords: Int = 60) -> String {
        var text = ""
        for i in 0..<Int.random(in: 0...maxWords, using: &rng) {
            if i > 0 { text += " " }
            text += words[Int.random(in: 0..<words.count, using: &rng)]
        }
        return text
    }

    /// A well-formed history (every call answered right after it), sometimes opened by
    /// orphaned tool results whose call is long gone.
    static func randomHistory(_ rng: inout SplitMix64) -> [Message] {
        var history: [Message] = []
        var nextCall = 0
        if Int.random(in: 0..<10, using: &rng) == 0 {
            for _ in 0..<Int.random(in: 1...2, using: &rng) {
                history.append(.tool(ToolResult(toolCallID: "orphan_\(nextCall)", name: "lookup", content: randomText(&rng))))
                nextCall += 1
            }
        }
        for _ in 0..<Int.random(in: 1...12, using: &rng) {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0, 1:
                history.append(.user(randomText(&rng)))
            case 2:
                history.append(.assistant(randomText(&rng)))
            default:
                var calls: [ToolCall] = []
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let query = randomText(&rng, maxWords: 10)
                    calls.append(ToolCall(id: "call_\(nextCall)", name: "tool_\(nextCall % 3)", arguments: ["q": .string(query)]))
                    nextCall += 1
                }
                let text = Bool.random(using: &rng) ? randomText(&rng, maxWords: 10) : ""
                history.append(.assistant(text, toolCalls: calls))
                for call in calls {
                    history.append(.tool(ToolResult(toolCallID: call.id, name: call.name, content: randomText(&rng))))
                }
            }
        }
        return history
    }

    /// Where the unit ending just before `end` starts, or `nil` if those messages are
    /// orphaned tool results (not a unit that can be kept).
    static func unitStart(in history: [Message], endingBefore end: Int) -> Int? {
        var start = end - 1
        while start > 0, history[start].role == .tool { start -= 1 }
        if history[start].role == .tool { return nil }
        if start == end - 1 || !history[start].toolCalls.isEmpty { return start }
        return nil
    }

    /// Every way `result` breaks the assembler's promises for these inputs.
    func problems(
        system: String?, history: [Message], snippets: [Snippet],
        budget: Int, maxSnippets: Int, share: Double, result: AssembledContext
    ) -> [String] {
        var problems: [String] = []
        let kept = result.history

        // (a) A suffix of the input.
        if kept.count > history.count || Array(history.suffix(kept.count)) != kept {
            problems.append("the kept history is not a suffix of the input")
        }
        if result.droppedMessages != history.count - kept.count {
            problems.append("droppedMessages is \(result.droppedMessages), but \(history.count - kept.count) were dropped")
        }
        // (b) Never starts with a tool result.
        if kept.first?.role == .tool {
            problems.append("the kept history starts with a tool result")
        }
        // (c) Calls and results stay paired.
        var callsSoFar = Set<String>()
        for (i, message) in kept.enumerated() {
            for answer in message.toolResults where !callsSoFar.contains(answer.toolCallID) {
                problems.append("tool result '\(answer.toolCallID)' at \(i) has no call before it")
            }
            let calls = message.toolCalls
            guard !calls.isEmpty else { continue }
            var answered = Set<String>()
            var j = i + 1
            while j < kept.count, kept[j].role == .tool {
                answered.formUnion(kept[j].toolResults.map(\.toolCallID))
                j += 1
            }
            for call in calls where !answered.contains(call.id) {
                problems.append("call '\(call.id)' at \(i) is not followed by its result")
            }
            callsSoFar.formUnion(calls.map(\.id))
        }
        // The latest unit is always kept.
        let latestStart = Self.unitStart(in: history, endingBefore: history.count) ?? history.count
        if kept.count < history.count - latestStart {
            problems.append("the latest unit (from \(latestStart)) was not kept whole")
        }
        // (d) Within budget, unless the latest unit alone was kept.
        let onlyLatest = kept.count == history.count - latestStart
        if !onlyLatest, result.tokenCount > budget {
            problems.append("\(result.tokenCount) tokens exceed the budget of \(budget)")
        }
        // The count is honest.
        let systemCost = system.map { counter.count($0) + 4 } ?? 0
        let snippetCost = result.snippets.reduce(0) { $0 + ($1.tokenCount ?? counter.count($1.text)) + 2 }
        if result.tokenCount != systemCost + tokens(kept) + snippetCost {
            problems.append("tokenCount \(result.tokenCount) is not \(systemCost) + \(tokens(kept)) + \(snippetCost)")
        }
        // Nothing droppable was dropped while it fit: the unit just before the kept history
        // (when it is a unit at all) did not fit.
        if kept.count < history.count, let start = Self.unitStart(in: history, endingBefore: history.count - kept.count) {
            let cost = tokens(history[start..<(history.count - kept.count)])
            if result.tokenCount + cost <= budget {
                problems.append("messages \(start)..<\(history.count - kept.count) (\(cost) tokens) were dropped though they fit")
            }
        }
        // Snippets: best first, at most maxSnippets, within their share.
        if result.snippets.count > maxSnippets {
            problems.append("\(result.snippets.count) snippets kept, more than \(maxSnippets)")
        }
        if zip(result.snippets, result.snippets.dropFirst()).contains(where: { $0.score < $1.score }) {
            problems.append("snippets are not best first")
        }
        for snippet in result.snippets where snippets.filter({ $0.score > snippet.score }).count >= maxSnippets {
            problems.append("snippet scored \(snippet.score) kept though \(maxSnippets) score higher")
        }
        let latestCost = tokens(history[latestStart...])
        let snippetBudget = Int(Double(max(0, budget - systemCost - latestCost)) * share)
        if snippetCost > snippetBudget {
            problems.append("snippets take \(snippetCost) tokens, more than their share \(snippetBudget)")
        }
        if result.droppedSnippets != snippets.count - result.snippets.count {
            problems.append("droppedSnippets is \(result.droppedSnippets)")
        }
        return problems
    }

    @Test func trimmingNeverSeparatesAToolCallFromItsResult() {
        var rng = SplitMix64(seed: 0xA55E_4B1E_2024_0001)
        var failures = 0
        var casesWithDrops = 0
        var casesKeepingAToolGroup = 0
        var casesCuttingBeforeAToolGroup = 0

        for n in 0..<2_000 where failures < 5 {
            let history = Self.randomHistory(&rng)
            let system = Bool.random(using: &rng) ? Self.randomText(&rng, maxWords: 30) : nil
            var snippets: [Snippet] = []
            for s in 0..<Int.random(in: 0...4, using: &rng) {
                snippets.append(Snippet(
                    text: Self.randomText(&rng, maxWords: 20),
                    score: Double.random(in: 0..<1, using: &rng),
                    source: "doc\(s)",
                    tokenCount: Bool.random(using: &rng) ? Int.random(in: 0...30, using: &rng) : nil
                ))
            }
            let budget = Int.random(in: 0...1_500, using: &rng)
            let maxSnippets = Int.random(in: 0...3, using: &rng)
            let share = [0, 0.25, 0.5, 1][Int.random(in: 0..<4, using: &rng)]

            let result = assembler(budget: budget, maxSnippets: maxSnippets, snippetShare: share)
                .assemble(system: system, history: history, snippets: snippets)
            let found = problems(
                system: system, history: history, snippets: snippets,
                budget: budget, maxSnippets: maxSnippets, share: share, result: result
            )
            if !found.isEmpty {
                failures += 1
                let roles = history.map { $0.toolCalls.isEmpty ? "\($0.role)" : "\($0.role)+\($0.toolCalls.count)" }
                Issue.record("case \(n) (budget \(budget), roles \(roles), kept \(result.history.count)): \(found.joined(separator: "; "))")
            }

            if result.droppedMessages > 0 { casesWithDrops += 1 }
            if result.history.contains(where: { !$0.toolCalls.isEmpty }) { casesKeepingAToolGroup += 1 }
            if result.droppedMessages > 0, history[result.droppedMessages - 1].role == .tool { casesCuttingBeforeAToolGroup += 1 }
        }
        #expect(failures == 0)
        // The generator exercises the interesting cases.
        #expect(casesWithDrops > 200)
        #expect(casesKeepingAToolGroup > 200)
        #expect(casesCuttingBeforeAToolGroup > 50)
    }
}

@Suite struct ContextAssemblerOrphanTests {
    @Test func orphanedToolResultsAreDroppedButTheQuestionIsKept() {
        let orphan = Message.tool(ToolResult(toolCallID: "gone", name: "f", content: "x"))
        let history: [Message] = [.user("earlier"), orphan, .user("the question")]
        let packed = ContextAssembler(tokenBudget: 1000).assemble(system: nil, history: history, snippets: [])
        #expect(packed.history.map(\.text) == ["earlier", "the question"])
        #expect(!packed.history.contains { $0.role == .tool })
        #expect(packed.droppedMessages == 1)

        let trailing: [Message] = [.user("the question"), orphan]
        let packed2 = ContextAssembler(tokenBudget: 1000).assemble(system: nil, history: trailing, snippets: [])
        #expect(packed2.history.map(\.text) == ["the question"])
    }
}
