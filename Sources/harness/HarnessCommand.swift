//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser

@main
struct HarnessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "harness",
        abstract: "Harness: LLM orchestration — agents, tools, and a gateway.",
        subcommands: [DemoCommand.self, ServeCommand.self, KeysCommand.self, ConversationsCommand.self, ConfigCommand.self, BenchLoopCommand.self, BenchSchemaCommand.self, BenchStoreCommand.self, BenchSSECommand.self, BenchProviderCommand.self, BenchRouterCommand.self, DevCommand.self]
    )
}
