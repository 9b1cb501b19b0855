//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// Counts tokens for budgeting. Exact counts need the model's tokenizer; budgets need a
/// fast, slightly pessimistic estimate, which is what the default gives.
public protocol TokenCounter: Sendable {
    /// Tokens in `text`.
    func count(_ text: String) -> Int
    /// Tokens `message` takes in a prompt, overhead included.
    func count(_ message: Message) -> Int
}

extension TokenCounter {
    public func count(_ message: Message) -> Int {
        var total = 4  // role and separators
        for part in message.content {
            switch part {
            case .text(let t): total += count(t)
            case .image: total += 85  // a low-detail image, as OpenAI bills it
            case .toolCall(let c): total += count(c.name) + count(c.rawArguments) + 3
            case .toolResult(let r): total += count(r.content) + 3
            }
        }
        return total
    }
}

/// The default ``TokenCounter``: one token per four UTF-8 bytes, rounded up — close to
/// BPE tokenizers on English and code, and pessimistic (so safe) on most other text.
public struct HeuristicTokenCounter: TokenCounter {
    public var bytesPerToken: Int

    public init(bytesPerToken: Int = 4) {
        self.bytesPerToken = max(1, bytesPerToken)
    }

    @inlinable
    public func count(_ text: String) -> Int {
        (text.utf8.count + bytesPerToken - 1) / bytesPerToken
    }
}
