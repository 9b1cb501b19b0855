//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The deadlines of one provider request.
///
/// Each one that passes ends the request with a ``ProviderError`` of code `timeout` that
/// names it, and closes the connection.
public struct ProviderTimeouts: Sendable, Hashable {
    /// Opening the TCP (and TLS) connection.
    public var connect: Duration
    /// From sending the request to receiving the response head.
    public var firstByte: Duration
    /// Between two chunks of the response body.
    public var idle: Duration
    /// The whole request, from sending to the last byte.
    public var total: Duration

    public init(
        connect: Duration = .seconds(10),
        firstByte: Duration = .seconds(120),
        idle: Duration = .seconds(90),
        total: Duration = .seconds(900)
    ) {
        self.connect = connect
        self.firstByte = firstByte
        self.idle = idle
        self.total = total
    }

    /// Defaults suited to chat models: long enough for a slow first token of a large model.
    public static let `default` = ProviderTimeouts()
}
