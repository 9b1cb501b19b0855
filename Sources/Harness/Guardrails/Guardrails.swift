//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import Foundation

/// Where a guardrail looked.
public enum GuardrailStage: String, Sendable, Hashable, Codable {
    case input, output, toolCall
}

/// A guardrail's finding: what was blocked and why.
public struct GuardrailViolation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What kind of rule was broken.
    public enum Kind: String, Sendable, Hashable, Codable {
        case blockedWord, blockedPattern, toolNotAllowed, outputTooLarge, invalidArguments
    }
    public var kind: Kind
    public var stage: GuardrailStage
    /// A description for people and for the model (names the rule, not the secret text).
    public var message: String

    public init(kind: Kind, stage: GuardrailStage, message: String) {
        self.kind = kind
        self.stage = stage
        self.message = message
    }

    public var description: String { "\(stage) guardrail (\(kind)): \(message)" }
}

/// Validates tool arguments before a tool runs; returns the problems found (empty when the
/// arguments are acceptable). The JSON Schema validator plugs in here.
public typealias ArgumentValidator = @Sendable (_ spec: ToolSpec, _ arguments: JSONValue) -> [String]

/// Checks on what goes into and comes out of a model: a tool allowlist, blocked words
/// (whole word, case-insensitive) and regular expressions on input and output, an output
/// size limit, and an argument-validation hook.
///
/// ```swift
/// let guardrails = try Guardrails(blockedWords: ["password"], blockedPatterns: [#"sk-[A-Za-z0-9]{20,}"#])
/// guardrails.checkInput("what is my PASSWORD?") // a violation
/// ```
public struct Guardrails: Sendable {
    /// Tools the model may call; `nil` allows every tool the agent has.
    public var allowedTools: Set<String>?
    /// Words and phrases refused on input and output (whole word, case-insensitive).
    public private(set) var blockedWords: [String]
    /// Regular expressions refused on input and output.
    public private(set) var blockedPatterns: [String]
    /// The most bytes of model text accepted in one turn; `nil` for no limit.
    public var maxOutputBytes: Int?
    /// Validates tool arguments before the tool runs.
    public var argumentValidator: ArgumentValidator?

    private var loweredWords: [String]
    private var compiled: [CompiledPattern]

    /// No checks.
    public static let none = Guardrails()

    private init() {
        self.blockedWords = []
        self.blockedPatterns = []
        self.loweredWords = []
        self.compiled = []
    }

    /// Creates guardrails.
    /// - Throws: `HarnessError` `invalidConfiguration` naming a pattern that does not compile.
    public init(
        allowedTools: Set<String>? = nil,
        blockedWords: [String] = [],
        blockedPatterns: [String] = [],
        maxOutputBytes: Int? = nil,
        argumentValidator: ArgumentValidator? = nil
    ) throws {
        self.allowedTools = allowedTools
        self.blockedWords = blockedWords.filter { !$0.isEmpty }
        self.loweredWords = self.blockedWords.map { $0.lowercased() }
        self.blockedPatterns = blockedPatterns
        self.maxOutputBytes = maxOutputBytes
        self.argumentValidator = argumentValidator
        self.compiled = try blockedPatterns.enumerated().map { index, pattern in
            do {
                return CompiledPattern(pattern: pattern, regex: try NSRegularExpression(pattern: pattern))
            } catch {
                throw HarnessError(.invalidConfiguration, "blocked pattern #\(index + 1) is not a valid regular expression: \(pattern)")
            }
        }
    }

    /// Checks text sent to the model.
    public func checkInput(_ text: String) -> GuardrailViolation? { checkText(text, stage: .input) }

    /// Checks text written by the model.
    public func checkOutput(_ text: String) -> GuardrailViolation? {
        if let maxOutputBytes, text.utf8.count > maxOutputBytes {
            return GuardrailViolation(
                kind: .outputTooLarge, stage: .output,
                message: "output of \(text.utf8.count) bytes exceeds the limit of \(maxOutputBytes)"
            )
        }
        return checkText(text, stage: .output)
    }

    /// Checks a tool call against the allowlist and the argument validator.
    public func checkToolCall(_ call: ToolCall, spec: ToolSpec?) -> GuardrailViolation? {
        if let allowedTools, !allowedTools.contains(call.name) {
            return GuardrailViolation(kind: .toolNotAllowed, stage: .toolCall, message: "tool '\(call.name)' is not allowed")
        }
        if let argumentValidator, let spec, let arguments = call.arguments {
            let problems = argumentValidator(spec, arguments)
            if !problems.isEmpty {
                return GuardrailViolation(
                    kind: .invalidArguments, stage: .toolCall,
                    message: "invalid arguments for '\(call.name)': " + problems.joined(separator: "; ")
                )
            }
        }
        return nil
    }

    func checkText(_ text: String, stage: GuardrailStage) -> GuardrailViolation? {
        if !loweredWords.isEmpty {
            let lowered = text.lowercased()
            for (index, word) in loweredWords.enumerated() where Self.containsWholeWord(lowered, word) {
                return GuardrailViolation(
                    kind: .blockedWord, stage: stage, message: "contains the blocked word '\(blockedWords[index])'"
                )
            }
        }
        for (index, p) in compiled.enumerated() {
            if p.search(text) {
                return GuardrailViolation(
                    kind: .blockedPattern, stage: stage, message: "matches blocked pattern #\(index + 1)"
                )
            }
        }
        return nil
    }

    /// Whether `word` occurs in `text` with no letter, digit or underscore on either side.
    static func containsWholeWord(_ text: String, _ word: String) -> Bool {
        var searchRange = text.startIndex..<text.endIndex
        while let r = text.range(of: word, options: [.literal], range: searchRange) {
            let beforeOK = r.lowerBound == text.startIndex || !isWordCharacter(text[text.index(before: r.lowerBound)])
            let afterOK = r.upperBound == text.endIndex || !isWordCharacter(text[r.upperBound])
            if beforeOK && afterOK { return true }
            searchRange = text.index(after: r.lowerBound)..<text.endIndex
        }
        return false
    }

    static func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
}

/// A compiled pattern. `NSRegularExpression` is immutable once made and documented as safe
/// to use from several threads, which is why the box is `@unchecked Sendable`.
final class CompiledPattern: @unchecked Sendable {
    let pattern: String
    let regex: NSRegularExpression
    /// A fast matcher, when the pattern is simple enough for one.
    let simple: SimplePattern?

    init(pattern: String, regex: NSRegularExpression) {
        self.pattern = pattern
        self.regex = regex
        self.simple = SimplePattern(pattern)
    }

    /// Whether the pattern matches somewhere in `text`.
    func search(_ text: String) -> Bool {
        if let simple { return simple.matches(text) }
        return regex.firstMatch(in: text, options: [], range: NSRange(text.startIndex..<text.endIndex, in: text)) != nil
    }
}
