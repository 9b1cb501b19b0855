//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

extension ProviderError: RetryClassifiable {
    /// Rate limits, overload, server errors, timeouts and broken connections count against
    /// a route's circuit breaker; refusals of the request itself (400, context length,
    /// content filter, 401, 404) do not.
    public var indicatesUnhealthyUpstream: Bool { isRetryable }

    public var failureCode: String { code.description }
}
