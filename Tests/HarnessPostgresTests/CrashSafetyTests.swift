//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HarnessCore
import HarnessPostgres
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Acknowledged appends survive the appender being killed at any moment: a child process
/// (`harness dev append-loop`) appends turns `turn-<sequence>` and prints `ack <sequence>` after
/// each append returns; it is SIGKILLed at a random moment, and every acked turn must then be
/// stored, intact, with no gaps.
@Suite("PostgreSQL crash safety")
struct CrashSafetyTests {
    @Test func ackedAppendsSurviveSIGKILL() async throws {
        let binary = try HarnessBinary.locate()
        try await TestPostgres.withFreshDatabase { database, url in
            let store = PostgresConversationStore(database: database)
            var expected: [String: Int] = [:]  // conversation → turns seen after its round
            for round in 0..<3 {
                let conversation = "crash-\(round)"
                let acked = try await Self.appendUntilKilled(
                    binary: binary, url: url, conversation: conversation, tenant: "crash",
                    acks: Int.random(in: 1...40), extraDelay: .microseconds(Int.random(in: 0...4_000))
                )
                // The server may still be finishing the statement in flight when the client died.
                try await Task.sleep(for: .milliseconds(200))
                let turns = try await store.load(conversationID: conversation, tenant: "crash", last: nil)
                let newest = try #require(acked.max())
                #expect(turns.map(\.sequence) == Array(0..<turns.count), "gaps or disorder in round \(round)")
                #expect(
                    turns.count > newest, "acked turn \(newest) missing: only \(turns.count) stored (round \(round))"
                )
                // Sequential appends: at most the one in flight at the kill is stored unacked.
                #expect(turns.count <= newest + 2, "\(turns.count) turns stored, newest ack \(newest) (round \(round))")
                for turn in turns {
                    #expect(turn.message.role == .user && turn.message.text == "turn-\(turn.sequence)",
                            "turn \(turn.sequence) is damaged: \(turn.message)")
                }
                for sequence in acked {
                    #expect(
                        turns.contains { $0.sequence == sequence }, "acked turn \(sequence) missing (round \(round))"
                    )
                }
                expected[conversation] = turns.count
            }
            // Earlier rounds' conversations are unchanged by later kills.
            for (conversation, count) in expected {
                let turns = try await store.load(conversationID: conversation, tenant: "crash", last: nil)
                #expect(turns.count == count, "\(conversation) changed after its round")
            }
        }
    }

    /// Runs the append loop until it has acked `acks` appends, waits `extraDelay` more, SIGKILLs
    /// it, and returns every sequence number it acked.
    static func appendUntilKilled(
        binary: URL, url: String, conversation: String, tenant: String, acks: Int, extraDelay: Duration
    ) async throws -> [Int] {
        let process = Process()
        process.executableURL = binary
        process.arguments = [
            "dev", "append-loop", "--postgres", url, "--conversation", conversation, "--tenant", tenant,
        ]
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let output = OutputCollector(stdout.fileHandleForReading)
        let errors = OutputCollector(stderr.fileHandleForReading)
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        let deadline = ContinuousClock.now + .seconds(60)
        while output.acks().count < acks {
            guard process.isRunning else {
                throw TestSetupError(description: """
                    `harness dev append-loop` exited (status \(process.terminationStatus)) after \
                    \(output.acks().count) acks; stderr: \(errors.text().suffix(2_000))
                    """)
            }
            guard ContinuousClock.now < deadline else {
                throw TestSetupError(description: """
                    `harness dev append-loop` acked \(output.acks().count) appends in 60 s; \
                    stderr: \(errors.text().suffix(2_000))
                    """)
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        try await Task.sleep(for: extraDelay)
        #expect(kill(process.processIdentifier, SIGKILL) == 0, "could not kill the append loop")
        while process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        // Everything it printed before dying is in the pipe: read to the end.
        await output.waitForEnd(timeout: .seconds(5))
        return output.acks()
    }
}

/// Reads a pipe on a thread of its own until it closes, keeping every `ack <n>` line.
final class OutputCollector: Sendable {
    private struct State {
        var bytes: [UInt8] = []
        var ended = false
    }

    private let state = Mutex(State())

    init(_ handle: FileHandle) {
        let thread = Thread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                state.withLock { $0.bytes += data }
            }
            state.withLock { $0.ended = true }
        }
        thread.start()
    }

    func text() -> String { state.withLock { String(decoding: $0.bytes, as: UTF8.self) } }

    /// The numbers of the complete `ack <n>` lines so far.
    func acks() -> [Int] {
        let text = text()
        // A last line without its newline may be cut short: leave it out.
        let complete = text.hasSuffix("\n") ? Substring(text) : text[..<(text.lastIndex(of: "\n") ?? text.startIndex)]
        return complete.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, parts[0] == "ack" else { return nil }
            return Int(parts[1])
        }
    }

    func waitForEnd(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while !state.withLock({ $0.ended }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// The package's `harness` executable, as built by `swift build`.
enum HarnessBinary {
    static func locate(file: String = #filePath) throws -> URL {
        let fileManager = FileManager.default
        if let path = ProcessInfo.processInfo.environment["HARNESS_CLI_PATH"],
           fileManager.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        var directory = URL(fileURLWithPath: file).deletingLastPathComponent()
        while directory.path != "/",
              !fileManager.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            directory.deleteLastPathComponent()
        }
        let candidates = [
            ".build/debug/harness",
            ".build/x86_64-unknown-linux-gnu/debug/harness",
            ".build/aarch64-unknown-linux-gnu/debug/harness",
            ".build-pg/debug/harness",
        ].map { directory.appendingPathComponent($0) }
        guard let found = candidates.first(where: { fileManager.isExecutableFile(atPath: $0.path) }) else {
            throw TestSetupError(description: """
                the harness executable was not found (looked for \(candidates.map(\.path).joined(separator: ", "))): \
                build it first (swift build --product harness, or scripts/test.sh), or set HARNESS_CLI_PATH
                """)
        }
        return found
    }
}
