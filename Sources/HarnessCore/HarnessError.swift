//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// An error raised by Harness itself (not by a provider or a tool).
///
/// Branch on code; the message is for people.
public struct HarnessError: Error, Sendable, CustomStringConvertible {
    /// What kind of error this is. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidArgument, invalidConfiguration, toolNotFound, toolTimeout, toolFailed
            case rateLimited, cancelled, timeout, guardrail, modelError, parse, storage, notFound
            case circuitOpen, unavailable
        }
        private let base: Base

        /// A value given by the caller is not acceptable.
        public static let invalidArgument = Code(base: .invalidArgument)
        /// A configuration is not valid.
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// No tool of that name.
        public static let toolNotFound = Code(base: .toolNotFound)
        /// A tool ran past its timeout.
        public static let toolTimeout = Code(base: .toolTimeout)
        /// A tool failed.
        public static let toolFailed = Code(base: .toolFailed)
        /// A rate limit refused the work.
        public static let rateLimited = Code(base: .rateLimited)
        /// The work was cancelled.
        public static let cancelled = Code(base: .cancelled)
        /// A deadline passed.
        public static let timeout = Code(base: .timeout)
        /// A guardrail blocked the input or output.
        public static let guardrail = Code(base: .guardrail)
        /// The model failed or answered unusably.
        public static let modelError = Code(base: .modelError)
        /// Text could not be parsed.
        public static let parse = Code(base: .parse)
        /// A store failed.
        public static let storage = Code(base: .storage)
        /// Something looked up does not exist.
        public static let notFound = Code(base: .notFound)
        /// A route's circuit breaker is open: the route failed too often and is not called
        /// until its open timeout has passed.
        public static let circuitOpen = Code(base: .circuitOpen)
        /// No route could serve the call: every one was unhealthy, open or failed.
        public static let unavailable = Code(base: .unavailable)

        public var description: String { base.rawValue }
    }

    /// What kind of error this is.
    public var code: Code
    /// What went wrong, for people. Never contains secrets.
    public var message: String
    /// For `rateLimited` and `circuitOpen`: how long until the work would be admitted.
    public var retryAfter: Duration?
    /// Where it was raised.
    public var file: String
    public var line: Int

    public init(
        _ code: Code,
        _ message: String,
        retryAfter: Duration? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
        self.file = file
        self.line = line
    }

    public var description: String { "\(code): \(message)" }
}

extension HarnessError: RetryClassifiable {
    /// Rate-limit refusals, timeouts, open circuits and unavailable routes may succeed later;
    /// the other codes say something about the request or the program.
    public var isRetryable: Bool {
        code == .rateLimited || code == .timeout || code == .circuitOpen || code == .unavailable
    }

    /// Timeouts and unavailable routes say the upstream is unhealthy; a local rate limit or
    /// an open circuit says nothing new about it.
    public var indicatesUnhealthyUpstream: Bool {
        code == .timeout || code == .unavailable
    }

    public var failureCode: String { code.description }
}
