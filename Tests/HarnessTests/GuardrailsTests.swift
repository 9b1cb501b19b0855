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

@Suite struct GuardrailsTests {
    @Test func blockedWordsMatchWholeWordsWhateverTheirCase() throws {
        let guardrails = try Guardrails(blockedWords: ["password"])
        for text in ["Password", "what is my PASSWORD?", "password.", "(password)", "my password is x", "x\npassword"] {
            let violation = guardrails.checkInput(text)
            #expect(violation?.kind == .blockedWord, "\(text.debugDescription) should be blocked")
            #expect(violation?.stage == .input)
        }
        for text in ["passwords", "mypassword", "password_reset", "passwordless", "\u{E9}password", "pass word", ""] {
            #expect(guardrails.checkInput(text) == nil, "\(text.debugDescription) should pass")
        }
        // A later whole-word occurrence is found after an embedded one.
        #expect(guardrails.checkInput("passwords and then password") != nil)
    }

    @Test func blockedWordsApplyToOutputToo() throws {
        let guardrails = try Guardrails(blockedWords: ["Secret"])
        let violation = guardrails.checkOutput("that is a SECRET")
        #expect(violation?.kind == .blockedWord)
        #expect(violation?.stage == .output)
        #expect(violation?.message.contains("Secret") == true)
        #expect(guardrails.checkOutput("secretive") == nil)
    }

    @Test func multiWordPhrases() throws {
        let guardrails = try Guardrails(blockedWords: ["credit card"])
        #expect(guardrails.checkInput("What is your CREDIT CARD number?")?.kind == .blockedWord)
        #expect(guardrails.checkInput("credit card") != nil)
        #expect(guardrails.checkInput("credit cards") == nil)
        #expect(guardrails.checkInput("creditcard") == nil)
        #expect(guardrails.checkInput("a credit or a card") == nil)
    }

    @Test func emptyWordsAreIgnored() throws {
        let guardrails = try Guardrails(blockedWords: ["", "ok"])
        #expect(guardrails.blockedWords == ["ok"])
        #expect(guardrails.checkInput("anything at all") == nil)
    }

    @Test func blockedPatternsAreRegularExpressions() throws {
        let guardrails = try Guardrails(blockedPatterns: [#"\bforbidden\b"#, #"sk-[A-Za-z0-9]{20,}"#])
        let secret = "sk-abcdefghijklmnopqrstuvwx"
        let violation = guardrails.checkOutput("here is the key: \(secret)")
        #expect(violation?.kind == .blockedPattern)
        #expect(violation?.stage == .output)
        #expect(violation?.message.contains("#2") == true)
        // The finding names the rule, never the matched text.
        #expect(violation?.message.contains(secret) == false)
        #expect(guardrails.checkInput("sk-short") == nil)
        #expect(guardrails.checkInput("this is forbidden")?.kind == .blockedPattern)
        #expect(guardrails.blockedPatterns.count == 2)
    }

    @Test func invalidPatternIsAConfigurationError() {
        let error = #expect(throws: HarnessError.self) {
            try Guardrails(blockedPatterns: ["fine", "([a-z"])
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("#2") == true)
    }

    @Test func allowlistRefusesOtherTools() throws {
        let guardrails = try Guardrails(allowedTools: ["search"])
        let refused = guardrails.checkToolCall(ToolCall(id: "1", name: "delete_all", arguments: [:]), spec: nil)
        #expect(refused?.kind == .toolNotAllowed)
        #expect(refused?.stage == .toolCall)
        #expect(refused?.message.contains("delete_all") == true)
        #expect(guardrails.checkToolCall(ToolCall(id: "2", name: "search", arguments: [:]), spec: nil) == nil)
        // No allowlist: every tool may be called.
        #expect(Guardrails.none.checkToolCall(ToolCall(id: "3", name: "delete_all", arguments: [:]), spec: nil) == nil)
    }

    @Test func argumentValidatorProblemsBecomeAnInvalidArgumentsViolation() throws {
        let guardrails = try Guardrails(argumentValidator: { spec, arguments in
            arguments["city"]?.stringValue == nil ? ["\(spec.name): 'city' must be a string"] : []
        })
        let spec = ToolSpec(name: "get_weather", description: "Weather")
        let bad = guardrails.checkToolCall(ToolCall(id: "1", name: "get_weather", arguments: ["city": 3]), spec: spec)
        #expect(bad?.kind == .invalidArguments)
        #expect(bad?.stage == .toolCall)
        #expect(bad?.message.contains("get_weather: 'city' must be a string") == true)
        #expect(guardrails.checkToolCall(ToolCall(id: "2", name: "get_weather", arguments: ["city": "Paris"]), spec: spec) == nil)
    }

    @Test func allowlistIsCheckedBeforeTheValidator() throws {
        let guardrails = try Guardrails(allowedTools: ["search"], argumentValidator: { _, _ in ["always wrong"] })
        let violation = guardrails.checkToolCall(ToolCall(id: "1", name: "delete_all", arguments: [:]), spec: ToolSpec(name: "delete_all", description: ""))
        #expect(violation?.kind == .toolNotAllowed)
        let allowed = guardrails.checkToolCall(ToolCall(id: "2", name: "search", arguments: [:]), spec: ToolSpec(name: "search", description: ""))
        #expect(allowed?.kind == .invalidArguments)
    }

    @Test func maxOutputBytesCountsBytes() throws {
        let guardrails = try Guardrails(maxOutputBytes: 10)
        #expect(guardrails.checkOutput("1234567890") == nil)
        #expect(guardrails.checkOutput(String(repeating: "\u{E9}", count: 5)) == nil)  // 10 bytes
        let tooLarge = guardrails.checkOutput(String(repeating: "\u{E9}", count: 6))  // 12 bytes, 6 characters
        #expect(tooLarge?.kind == .outputTooLarge)
        #expect(tooLarge?.stage == .output)
        #expect(guardrails.checkOutput("12345678901")?.kind == .outputTooLarge)
        // The limit is on model output, not on input.
        #expect(guardrails.checkInput(String(repeating: "x", count: 100)) == nil)
    }

    @Test func noneChecksNothing() {
        #expect(Guardrails.none.checkInput("password sk-abcdefghijklmnopqrstuvwx") == nil)
        #expect(Guardrails.none.checkOutput(String(repeating: "x", count: 1_000_000)) == nil)
    }
}
