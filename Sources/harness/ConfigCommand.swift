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

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check a harness.yaml.",
        subcommands: [Check.self, Keys.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a configuration file and the HARNESS_* environment.")

        @Argument(help: "The file (default: harness.yaml).")
        var path: String = "harness.yaml"

        func run() async throws {
            do {
                let config = try ConfigLoader.load(path: path)
                print("\(path): OK")
                print("  cache: \(config.cache.enabled ? "on, \(config.cache.capacity) entries" : "off")")
                print("  rate limit: \(config.rateLimit.enabled ? "\(config.rateLimit.capacity) burst, \(config.rateLimit.refillPerSecond)/s" : "off")")
                print("  policy: \(config.policy.maxIterations) iterations, tool concurrency \(config.policy.toolConcurrency)")
                print("  server: \(config.server.host):\(config.server.port), auth \(config.server.auth.rawValue)")
                let models = config.models.isEmpty ? "scripted (default)" : config.models.map { "\($0.name) (\($0.strategy), \($0.routes.count) route\($0.routes.count == 1 ? "" : "s"))" }.joined(separator: ", ")
                print("  models: \(models)")
                if !config.agents.isEmpty { print("  agents: \(config.agents.map(\.name).joined(separator: ", "))") }
            } catch let error as ConfigError {
                print(error.description)
                throw ExitCode(2)
            }
        }
    }

    struct Keys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every key and its environment variable.")

        func run() async throws {
            for key in ConfigLoader.knownKeys {
                print("\(key.padding(toLength: 32, withPad: " ", startingAt: 0)) \(ConfigLoader.environmentName(for: key))")
            }
        }
    }
}
