//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import Prometheus
import CoreMetrics
import HarnessConfig
import HarnessCore

/// Writes JSON straight into bytes, keys in the order written: the gateway's responses are
/// built this way rather than through a dictionary, so the `id` comes first as clients
/// expect and nothing is sorted or boxed on the hot path.
struct JSONWriter {
    var bytes: [UInt8] = []
    /// Whether the container being written needs a comma before its next member.
    private var needsComma: [Bool] = []

    init(capacity: Int = 512) {
        bytes.reserveCapacity(capacity)
    }

    private var valuePending = false

    /// Before a value: a comma if the container already has a member, none after a key.
    private mutating func separate() {
        if valuePending {
            valuePending = false
            return
        }
        guard let last = needsComma.last else { return }
        if last { bytes.append(UInt8(ascii: ",")) } else { needsComma[needsComma.count - 1] = true }
    }

    /// Writes `"name":`; the value written next belongs to it.
    mutating func key(_ name: String) {
        separate()
        JSONValue.writeString(name, into: &bytes)
        bytes.append(UInt8(ascii: ":"))
        valuePending = true
    }

    private mutating func value(_ write: (inout [UInt8]) -> Void) {
        separate()
        write(&bytes)
    }

    mutating func object(_ body: (inout JSONWriter) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma.append(false)
        body(&self)
        needsComma.removeLast()
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func array(_ body: (inout JSONWriter) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma.append(false)
        body(&self)
        needsComma.removeLast()
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func string(_ s: String) { value { JSONValue.writeString(s, into: &$0) } }

    mutating func int(_ i: Int) { value { $0.append(contentsOf: String(i).utf8) } }

    mutating func double(_ d: Double) {
        value { out in
            if d.isFinite, d == d.rounded(), abs(d) < 1e15 {
                out.append(contentsOf: String(Int(d)).utf8)
            } else if d.isFinite {
                out.append(contentsOf: "\(d)".utf8)
            } else {
                out.append(contentsOf: "null".utf8)
            }
        }
    }

    mutating func bool(_ b: Bool) { value { $0.append(contentsOf: (b ? "true" : "false").utf8) } }

    mutating func null() { value { $0.append(contentsOf: "null".utf8) } }

    /// A value that is already JSON text.
    mutating func raw(_ json: some Collection<UInt8>) { value { $0.append(contentsOf: json) } }

    mutating func json(_ v: JSONValue) { value { v.writeCanonical(into: &$0) } }

    mutating func stringOrNull(_ s: String?) {
        if let s { string(s) } else { null() }
    }
}
