//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore
@testable import HarnessProviders
import Testing

@Suite struct ToolCallAssemblerTests {
    /// Random fragments, completions and whole calls over up to 14 keys (past the point where
    /// the assembler stops searching linearly) give the same events and open calls as the
    /// reference (the version before calls were kept in an array), by string key and by
    /// integer index.
    @Test func matchesTheReferenceOnRandomOperations() {
        var state: UInt64 = 0x0DDB_1A5E_5BAD_5EED
        func next() -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int(truncatingIfNeeded: (z ^ (z >> 31)) >> 1)
        }
        let ids: [String?] = [nil, "", "call_a", "call_b"]
        let names: [String?] = [nil, "", "get_weather", "lookup"]
        let arguments = ["", "", " ", "{\"a\":", "1}", "x"]
        for round in 0..<400 {
            let byIndex = round % 2 == 1
            var reference = ReferenceToolCallAssembler()
            var assembler = ToolCallAssembler()
            var expected: [ModelStreamEvent] = []
            var got: [ModelStreamEvent] = []
            for step in 0..<(next() % 120) {
                let key = next() % 14
                switch next() % 20 {
                case 0:
                    reference.completeAll(into: &expected)
                    assembler.completeAll(into: &got)
                case 1, 2:
                    // By index, calls are completed only all at once (as OpenAI's are).
                    if !byIndex {
                        reference.complete(key: String(key), into: &expected)
                        assembler.complete(key: String(key), into: &got)
                    }
                case 3:
                    let id = ids[next() % ids.count]
                    let name = names[next() % names.count] ?? "f"
                    let args = arguments[next() % arguments.count]
                    reference.whole(id: id, name: name, arguments: args, into: &expected)
                    assembler.whole(id: id, name: name, arguments: args, into: &got)
                default:
                    let id = ids[next() % ids.count]
                    let name = names[next() % names.count]
                    let args = arguments[next() % arguments.count]
                    reference.add(key: String(key), id: id, name: name, arguments: args, into: &expected)
                    if byIndex {
                        assembler.add(index: key, id: id, name: name, arguments: args, into: &got)
                    } else {
                        assembler.add(key: String(key), id: id, name: name, arguments: args, into: &got)
                    }
                }
                #expect(got == expected, "round \(round), step \(step)")
                #expect(assembler.hasOpenCalls == reference.hasOpenCalls, "round \(round), step \(step)")
                #expect(assembler.openCallIDs == reference.openCallIDs, "round \(round), step \(step)")
                if got != expected { return }
            }
            reference.completeAll(into: &expected)
            assembler.completeAll(into: &got)
            #expect(got == expected, "round \(round), end")
        }
    }

    /// A long argument string built from many fragments is appended to in place.
    @Test func manyFragmentsBuildOneCall() {
        var assembler = ToolCallAssembler()
        var events: [ModelStreamEvent] = []
        assembler.add(index: 0, id: "call_1", name: "f", arguments: "[", into: &events)
        for _ in 0..<10_000 { assembler.add(index: 0, arguments: "1,", into: &events) }
        assembler.add(index: 0, arguments: "1]", into: &events)
        events.removeAll()
        assembler.completeAll(into: &events)
        let expected = "[" + String(repeating: "1,", count: 10_000) + "1]"
        #expect(events == [.toolCallComplete(ToolCall(id: "call_1", name: "f", rawArguments: expected))])
    }
}
