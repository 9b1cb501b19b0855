//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// One event as ``SSEDecoder/feed(_:onEvent:)`` hands it over, without copying: the data
/// bytes are borrowed from the bytes being fed or from the decoder, and are valid only
/// during the call that receives the view.
public struct SSEEventView {
    /// The `event:` field, or `message`.
    public let type: String
    /// The `data:` lines joined by LF, as raw bytes: not checked or repaired as UTF-8 (decode
    /// with `String(decoding:as:)` to get what ``ServerSentEvent/data`` holds). Valid only
    /// during the call that receives the view.
    public let data: UnsafeRawBufferPointer
    /// The last event id in force when the event was dispatched.
    public let lastEventID: String

    /// Whether the data bytes spell `text` exactly.
    public func dataEquals(_ text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard data.count == n else { return false }
        let p = text.utf8Start
        for i in 0..<n where data[i] != p[i] { return false }
        return true
    }
}
