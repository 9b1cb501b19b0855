//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Where a broken stream was resumed: the events before it came from one attempt, the
/// events after it from the attempt that continued from the partial output.
///
/// Delivered as ``ModelStreamEvent/seam(_:)`` just before the first event of the
/// continuing attempt. Text before and after it joins into one answer; tool calls listed
/// in ``keptToolCallIDs`` were completed before the break and are not requested again;
/// calls in ``droppedToolCallIDs`` were started but cut off, and must be discarded by the
/// consumer (the model is asked for them again, possibly under a new id).
public struct StreamSeam: Sendable, Hashable, Codable {
    /// The number of the attempt that continues (2 for the first resumption).
    public var attempt: Int
    /// The route whose stream broke, if routes are named.
    public var fromRoute: String?
    /// The route that continues.
    public var toRoute: String?
    /// Why the stream broke (a failure code such as `connection`).
    public var reason: String
    /// Characters of answer text delivered before the seam.
    public var deliveredCharacters: Int
    /// Tool calls completed before the seam, kept and not requested again.
    public var keptToolCallIDs: [String]
    /// Tool calls started but not completed before the seam; discard them.
    public var droppedToolCallIDs: [String]

    public init(
        attempt: Int,
        fromRoute: String? = nil,
        toRoute: String? = nil,
        reason: String,
        deliveredCharacters: Int,
        keptToolCallIDs: [String] = [],
        droppedToolCallIDs: [String] = []
    ) {
        self.attempt = attempt
        self.fromRoute = fromRoute
        self.toRoute = toRoute
        self.reason = reason
        self.deliveredCharacters = deliveredCharacters
        self.keptToolCallIDs = keptToolCallIDs
        self.droppedToolCallIDs = droppedToolCallIDs
    }
}
