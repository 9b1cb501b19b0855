//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Harness
import HarnessCore

/// Times schema validation on given files (used by `Benchmarks/schema_compare.py`).
struct BenchSchemaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-schema",
        abstract: "Measure JSON Schema validation throughput on a schema and instances."
    )

    @Option(help: "The schema file.")
    var schema: String

    @Option(help: "Instance files (each timed separately).")
    var instance: [String]

    @Option(help: "Seconds to spend per instance.")
    var seconds: Double = 2

    @Flag(help: "Always collect every error (validate), even for valid instances.")
    var collectErrors = false

    func run() async throws {
        let schemaValue = try JSONValue(parsingBytes: try Data(contentsOf: URL(fileURLWithPath: schema)))
        let validator = try JSONSchema(schemaValue)
        var results: [String] = []
        for path in instance {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let value = try JSONValue(parsingBytes: data)
            let expected = validator.validate(value).isValid
            let clock = ContinuousClock()
            var count = 0
            let start = clock.now
            let budget = Duration.milliseconds(Int64(seconds * 1000))
            var ok = true
            while clock.now - start < budget {
                for _ in 0..<16 {
                    // Valid instances: the boolean path; invalid ones: every error collected.
                    ok = expected && !collectErrors ? validator.isValid(value) : validator.validate(value).isValid
                }
                count += 16
            }
            let elapsed = clock.now - start
            guard ok == expected else { throw ValidationError("validation result changed between runs") }
            let secondsElapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let perSecond = Double(count) / secondsElapsed
            let mbPerSecond = perSecond * Double(data.count) / 1e6
            results.append(#"{"instance":"\#(URL(fileURLWithPath: path).lastPathComponent)","bytes":\#(data.count),"valid":\#(expected),"validations_per_second":\#(perSecond),"mb_per_second":\#(mbPerSecond)}"#)
        }
        print("[" + results.joined(separator: ",") + "]")
    }
}
