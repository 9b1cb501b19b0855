//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Harness
import HarnessCore
import Testing

/// The official JSON-Schema-Test-Suite (../shared/conformance/json-schema-test-suite).
/// Remote references (`http://localhost:1234/…`) and the meta-schemas are served from that
/// folder by the resolver. Nothing is skipped silently: `skipped` below lists every case left
/// out, with its reason, and every other case must pass.
enum SchemaSuite {
    static var root: URL {
        if let dir = ProcessInfo.processInfo.environment["HARNESS_CONFORMANCE_DIR"] {
            return URL(fileURLWithPath: dir).appendingPathComponent("json-schema-test-suite")
        }
        // Tests/HarnessTests/<this file> → repo → ../shared/conformance
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/conformance/json-schema-test-suite")
    }

    /// Cases left out, as "file: group: test" → reason.
    static let skipped: [String: String] = [:]

    static func load(_ url: URL) throws -> JSONValue {
        try JSONValue(parsingBytes: try Data(contentsOf: url))
    }

    static let resolver: @Sendable (String) -> JSONValue? = { uri in
        let base = root
        let remotePrefix = "http://localhost:1234/"
        var file: URL?
        if uri.hasPrefix(remotePrefix) {
            file = base.appendingPathComponent("remotes").appendingPathComponent(String(uri.dropFirst(remotePrefix.count)))
        } else if uri == "https://json-schema.org/draft/2020-12/schema" {
            file = base.appendingPathComponent("metaschemas/draft2020-12/schema.json")
        } else if uri.hasPrefix("https://json-schema.org/draft/2020-12/meta/") {
            file = base.appendingPathComponent("metaschemas/draft2020-12/meta")
                .appendingPathComponent(String(uri.dropFirst("https://json-schema.org/draft/2020-12/meta/".count)) + ".json")
        } else if uri == "http://json-schema.org/draft-07/schema" {
            file = base.appendingPathComponent("metaschemas/draft-07/schema.json")
        }
        guard let file else { return nil }
        return try? load(file)
    }

    struct Outcome {
        var passed = 0
        var failed: [String] = []
        var skipped = 0
        var total: Int { passed + failed.count + skipped }
    }

    static func run(folder: String, draft: JSONSchema.Draft, formatAssertion: Bool) throws -> Outcome {
        let dir = root.appendingPathComponent("tests").appendingPathComponent(folder)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted()
        var outcome = Outcome()
        for file in files {
            guard case .array(let groups) = try load(dir.appendingPathComponent(file)) else { continue }
            for group in groups {
                let groupName = group["description"]?.stringValue ?? "?"
                let tests = group["tests"]?.arrayValue ?? []
                let options = JSONSchema.Options(draft: draft, formatAssertion: formatAssertion, resolver: resolver)
                let schema: JSONSchema?
                var compileError = ""
                do {
                    schema = try JSONSchema(group["schema"] ?? true, options: options)
                } catch {
                    schema = nil
                    compileError = "\(error)"
                }
                for test in tests {
                    let name = "\(folder)/\(file): \(groupName): \(test["description"]?.stringValue ?? "?")"
                    if skipped[name] != nil {
                        outcome.skipped += 1
                        continue
                    }
                    guard let schema else {
                        outcome.failed.append("\(name) — schema did not compile: \(compileError)")
                        continue
                    }
                    let expected = test["valid"]?.boolValue ?? false
                    let data = test["data"] ?? .null
                    let fast = schema.isValid(data)
                    let full = schema.validate(data)
                    if fast == expected && full.isValid == expected {
                        outcome.passed += 1
                    } else {
                        outcome.failed.append("\(name) — expected \(expected ? "valid" : "invalid"), got isValid=\(fast) validate=\(full.isValid)")
                    }
                }
            }
        }
        return outcome
    }
}

@Suite struct JSONSchemaSuiteTests {
    func report(_ label: String, _ outcome: SchemaSuite.Outcome) {
        print("JSON-Schema-Test-Suite \(label): \(outcome.passed)/\(outcome.total) passed, \(outcome.failed.count) failed, \(outcome.skipped) skipped")
        for failure in outcome.failed.prefix(60) { print("  FAIL \(failure)") }
    }

    @Test func suiteIsPresent() throws {
        #expect(FileManager.default.fileExists(atPath: SchemaSuite.root.appendingPathComponent("tests/draft2020-12").path),
                "the conformance suite must be at \(SchemaSuite.root.path) (or set HARNESS_CONFORMANCE_DIR)")
    }

    @Test func draft2020_12() throws {
        let outcome = try SchemaSuite.run(folder: "draft2020-12", draft: .draft2020_12, formatAssertion: false)
        report("draft2020-12", outcome)
        #expect(outcome.total >= 1299)
        #expect(outcome.failed.isEmpty)
    }

    @Test func draft7() throws {
        let outcome = try SchemaSuite.run(folder: "draft7", draft: .draft7, formatAssertion: false)
        report("draft7", outcome)
        #expect(outcome.total >= 927)
        #expect(outcome.failed.isEmpty)
    }
}
