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
@testable import HarnessSQLite
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash safety: a child process appends turns in a loop and reports each append that
/// returned; it is killed with SIGKILL at a random moment; every turn it reported must then
/// be in the database, whole, with no gaps and no half-written rows.
///
/// The child is the package's own CLI, `harness dev append-loop --sqlite PATH --conversation
/// ID --tenant T`, which appends user turns with the text `turn-<sequence>` and prints
/// `ack <sequence>` (flushed) after each `append` returns. Build it first
/// (`swift build --product harness`, with the same `--scratch-path` as the tests); the test
/// fails, rather than skips, when it cannot find it. `HARNESS_BINARY` overrides the search.
@Suite struct SQLiteCrashTests {
    static let tenant = "crash-tenant"

    @Test(.timeLimit(.minutes(5))) func acknowledgedTurnsSurviveSIGKILL() async throws {
        let (binary, searched) = Self.harnessBinary()
        let executable = try #require(
            binary,
            """
            The `harness` executable was not found, so the crash test cannot run. Build it with \
            `swift build --product harness` (same --scratch-path as the tests) or set HARNESS_BINARY. \
            Looked in: \(searched.joined(separator: ", "))
            """
        )
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("crash/harness.sqlite")
        // Create and migrate the file first, so that the child only ever appends.
        _ = try SQLiteDatabase(path: path)

        var acknowledged: [String: [Int]] = [:]
        for round in 0..<5 {
            let conversation = "crash-\(round)"
            // A child that never acknowledged has recorded an issue already.
            guard let acks = try await Self.runAndKill(executable, path: path, conversation: conversation) else { return }
            #expect(acks == Array(0..<acks.count), "the child acknowledged out of order: \(acks.prefix(20))…")
            acknowledged[conversation] = acks
        }

        let database = try SQLiteDatabase(path: path)
        #expect(try await database.checkIntegrity().isEmpty)
        #expect(try await database.strings("PRAGMA foreign_key_check").isEmpty)
        let store = SQLiteConversationStore(database: database)
        for (conversation, acks) in acknowledged.sorted(by: { $0.key < $1.key }) {
            // `load` throws if any row does not decode.
            let turns = try await store.load(conversationID: conversation, tenant: Self.tenant, last: nil)
            #expect(turns.map(\.sequence) == Array(0..<turns.count), "\(conversation): sequence numbers have gaps")
            let lastAcknowledged = acks.max() ?? -1
            #expect(
                turns.count > lastAcknowledged,
                "\(conversation): \(acks.count) appends were acknowledged, \(turns.count) turns survived"
            )
            for turn in turns {
                #expect(turn.message == .user("turn-\(turn.sequence)"), "\(conversation): turn \(turn.sequence) is not intact")
            }
            let summary = try await store.list(tenant: Self.tenant, limit: 100, offset: 0).first { $0.id == conversation }
            #expect(summary?.turnCount == turns.count)
            // The file is still writable, and numbering carries on.
            let next = try await store.append(Turn(message: .user("after")), to: conversation, tenant: Self.tenant)
            #expect(next.sequence == turns.count)
        }
    }

    /// Runs the append loop until its first acknowledgement, lets it run 100–400 ms more,
    /// kills it with SIGKILL, and returns the sequence numbers it acknowledged; records an
    /// issue and returns `nil` when it acknowledged nothing.
    static func runAndKill(_ executable: URL, path: String, conversation: String) async throws -> [Int]? {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["dev", "append-loop", "--sqlite", path, "--conversation", conversation, "--tenant", tenant]
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let output = OutputCollector(stdout.fileHandleForReading)
        let errors = OutputCollector(stderr.fileHandleForReading)
        try process.run()

        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(120)
        while Self.acks(in: output.text).isEmpty && process.isRunning && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        guard !Self.acks(in: output.text).isEmpty else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            await Self.waitForExit(process)
            await output.waitUntilClosed()
            await errors.waitUntilClosed()
            Issue.record(
                """
                `\(executable.path) dev append-loop` acknowledged no append \
                (exit status \(process.terminationStatus)). stdout: \(output.text.prefix(2_000)) \
                stderr: \(errors.text.prefix(2_000))
                """
            )
            return nil
        }
        try await Task.sleep(for: .milliseconds(Int.random(in: 100...400)))
        let wasRunning = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        await Self.waitForExit(process)
        await output.waitUntilClosed()
        await errors.waitUntilClosed()
        #expect(wasRunning, "the child stopped by itself before it was killed; stderr: \(errors.text.prefix(2_000))")
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
        return Self.acks(in: output.text)
    }

    /// The sequence numbers of the complete `ack N` lines of `text` (a last line without its
    /// newline may have been cut by the kill, and is ignored).
    static func acks(in text: String) -> [Int] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()  // What follows the last newline: incomplete, or empty.
        return lines.compactMap { line in
            guard line.hasPrefix("ack ") else { return nil }
            return Int(line.dropFirst(4).trimmingCharacters(in: .whitespaces))
        }
    }

    static func waitForExit(_ process: Process) async {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(2)) }
    }

    /// Where the `harness` executable is, and every place looked at. The build directory of
    /// this test binary comes first, so that the executable is from the same build.
    static func harnessBinary(file: String = #filePath) -> (URL?, [String]) {
        var candidates: [URL] = []
        if let override = ProcessInfo.processInfo.environment["HARNESS_BINARY"], !override.isEmpty {
            candidates.append(URL(fileURLWithPath: override))
        }
        if let testBinary = Bundle.main.executableURL {
            // `<scratch>/<triple>/debug/HarnessPackageTests.xctest` (a file on Linux; on macOS a
            // bundle with the binary inside): the executable is next to it.
            let components = testBinary.pathComponents
            let bundle = components.firstIndex { $0.hasSuffix(".xctest") } ?? (components.count - 1)
            let directory = URL(fileURLWithPath: NSString.path(withComponents: Array(components[..<bundle])))
            candidates.append(directory.appendingPathComponent("harness"))
        }
        var root = URL(fileURLWithPath: file).deletingLastPathComponent()
        while root.path != "/" && !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        for relative in [
            ".build/debug/harness", ".build/x86_64-unknown-linux-gnu/debug/harness",
            ".build/aarch64-unknown-linux-gnu/debug/harness", ".build/arm64-apple-macosx/debug/harness",
            ".build-sqlite/debug/harness", ".build-sqlite/x86_64-unknown-linux-gnu/debug/harness",
        ] {
            candidates.append(root.appendingPathComponent(relative))
        }
        let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
        return (found, candidates.map(\.path))
    }
}

/// Reads a pipe to its end on a thread of its own, keeping everything read.
final class OutputCollector: Sendable {
    private struct State {
        var data = Data()
        var closed = false
    }

    private let state = Mutex(State())

    init(_ handle: FileHandle) {
        let descriptor = handle.fileDescriptor
        Thread.detachNewThread { [self] in
            // `read(2)` returns what is there as soon as there is something (FileHandle's
            // `read(upToCount:)` waits for the whole count).
            var buffer = [UInt8](repeating: 0, count: 4_096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    state.withLock { $0.data.append(contentsOf: buffer[..<count]) }
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break  // End of file, or an error: either way nothing more will come.
                }
            }
            state.withLock { $0.closed = true }
            withExtendedLifetime(handle) {}
        }
    }

    /// What was read so far, as UTF-8.
    var text: String { String(decoding: state.withLock { $0.data }, as: UTF8.self) }

    /// Waits for the end of the pipe: every writer has closed it (or exited).
    func waitUntilClosed() async {
        while !state.withLock({ $0.closed }) { try? await Task.sleep(for: .milliseconds(2)) }
    }
}
