//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore

extension RunLoop {
    /// Runs with this run's report collector bound, so that every model call made through a
    /// resilience wrapper — streamed or not — adds its ``CallReport`` to the result.
    func runCollectingReports(input: [Message]) async throws -> RunResult {
        try await CallReportCollector.$current.withValue(callReports) {
            try await run(input: input)
        }
    }
}
