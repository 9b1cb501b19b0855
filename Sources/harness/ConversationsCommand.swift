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
import HarnessConfig
import HarnessCore

/// Options shared by commands that open the configured store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "A harness.yaml (its `storage` key; HARNESS_DATABASE_URL overrides).")
    var config: String?

    @Option(name: .long, help: "The store: sqlite:PATH or a postgres:// URL (overrides the config).")
    var storage: String?

    @Option(name: .long, help: "The tenant.")
    var tenant: String = "default"

    func location() throws -> String {
        if let storage { return storage }
        do {
            let path = config ?? (FileManager.default.fileExists(atPath: "harness.yaml") ? "harness.yaml" : nil)
            return try ConfigLoader.load(path: path).storage
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
    }
}

struct ConversationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conversations",
        abstract: "List, show, export and delete stored conversations.",
        subcommands: [List.self, Show.self, Export.self, Delete.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tenant's conversations, most recent first.")
        @OptionGroup var store: StoreOptions
        @Option(help: "How many.") var limit = 50
        @Option(help: "Skip this many.") var offset = 0

        func run() async throws {
            try await Stores.withConversationStore(try store.location()) { conversations in
                let list = try await conversations.list(tenant: store.tenant, limit: limit, offset: offset)
                if list.isEmpty { print("no conversations for tenant '\(store.tenant)'") }
                for c in list {
                    print("\(c.id)\t\(c.turnCount) turns\tupdated \(ISO8601DateFormatter().string(from: c.updatedAt))")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a conversation's turns.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The conversation id.") var id: String
        @Option(help: "Only the last N turns.") var last: Int?

        func run() async throws {
            try await Stores.withConversationStore(try store.location()) { conversations in
                let turns = try await conversations.load(conversationID: id, tenant: store.tenant, last: last)
                guard !turns.isEmpty else { throw CLIError("no conversation '\(id)' for tenant '\(store.tenant)'") }
                for t in turns {
                    var line = "#\(t.sequence) \(t.message.role.rawValue):"
                    if !t.message.text.isEmpty { line += " \(t.message.text)" }
                    for call in t.message.toolCalls { line += " [call \(call.name)\(call.rawArguments)]" }
                    for result in t.message.toolResults { line += " [result \(result.name): \(result.content)\(result.isError ? " (error)" : "")]" }
                    if let usage = t.usage { line += "  (\(usage.inputTokens) in / \(usage.outputTokens) out)" }
                    print(line)
                }
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a conversation as JSON.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The conversation id.") var id: String
        @Option(name: .shortAndLong, help: "The file (default: standard output).") var output: String?

        func run() async throws {
            try await Stores.withConversationStore(try store.location()) { conversations in
                let turns = try await conversations.load(conversationID: id, tenant: store.tenant, last: nil)
                guard !turns.isEmpty else { throw CLIError("no conversation '\(id)' for tenant '\(store.tenant)'") }
                let data = try ConversationExport(id: id, tenant: store.tenant, turns: turns).json()
                if let output {
                    try data.write(to: URL(fileURLWithPath: output), options: .atomic)
                    print("wrote \(turns.count) turns to \(output)")
                } else {
                    FileHandle.standardOutput.write(data)
                    print()
                }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a conversation.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The conversation id.") var id: String

        func run() async throws {
            try await Stores.withConversationStore(try store.location()) { conversations in
                let existed = try await conversations.delete(conversationID: id, tenant: store.tenant)
                guard existed else { throw CLIError("no conversation '\(id)' for tenant '\(store.tenant)'") }
                print("deleted \(id)")
            }
        }
    }
}

/// The JSON form of an exported conversation.
struct ConversationExport: Encodable {
    var id: String
    var tenant: String
    var turns: [Turn]

    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }
}

/// `harness dev …`: tools for Harness's own tests.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Tools used by Harness's own tests.",
        shouldDisplay: false,
        subcommands: [AppendLoop.self]
    )

    /// Appends user turns `turn-<n>` forever, printing `ack <sequence>` after each append
    /// returns: the crash-safety tests kill it with SIGKILL and check every acked turn.
    struct AppendLoop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "append-loop")
        @Option var sqlite: String?
        @Option var postgres: String?
        @Option var conversation: String
        @Option var tenant: String = "default"
        @Option(help: "Stop after this many appends (default: never).") var count: Int?

        func run() async throws {
            guard let location = sqlite.map({ "sqlite:" + $0 }) ?? postgres else {
                throw ValidationError("give --sqlite PATH or --postgres URL")
            }
            try await Stores.withConversationStore(location) { store in
                var n = 0
                while count.map({ n < $0 }) ?? true {
                    let existing = try await store.load(conversationID: conversation, tenant: tenant, last: 1).first?.sequence ?? -1
                    let stored = try await store.append(Turn(message: .user("turn-\(existing + 1)")), to: conversation, tenant: tenant)
                    print("ack \(stored.sequence)")
                    fflush(nil)
                    n += 1
                }
            }
        }
    }
}

/// A failure at run time (not a usage mistake): printed without the usage text.
struct CLIError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
