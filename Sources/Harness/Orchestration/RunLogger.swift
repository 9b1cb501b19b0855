//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Logging

/// A run's logger: every message carries the run id and the agent's name.
///
/// They are added to each message's metadata, not set on the logger, because setting
/// metadata on a logger makes some handlers (swift-log's `StreamLogHandler`) format it at
/// once — on every run, even when nothing is logged at the configured level.
struct RunLogger: Sendable {
    let base: Logger
    let runID: String
    let agentName: String

    private func metadata(_ extra: Logger.Metadata?) -> Logger.Metadata {
        var metadata = extra ?? [:]
        metadata["harness.run.id"] = .string(runID)
        metadata["gen_ai.agent.name"] = .string(agentName)
        return metadata
    }

    func debug(_ message: @autoclosure () -> Logger.Message, metadata extra: @autoclosure () -> Logger.Metadata? = nil) {
        base.debug(message(), metadata: metadata(extra()))
    }

    func warning(_ message: @autoclosure () -> Logger.Message, metadata extra: @autoclosure () -> Logger.Metadata? = nil) {
        base.warning(message(), metadata: metadata(extra()))
    }
}
