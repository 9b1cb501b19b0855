//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Dispatch
import Foundation
import HarnessCore
@testable import HarnessSQLite
import Synchronization
import Testing

/// Group commit of conversation appends: appends that arrive while a transaction commits
/// share the next one, each in a savepoint of its own.
///
/// The tests that need a batch of known content hold the writer connection busy with a
/// ``WriterGate``: the first append is then taken into a transaction that cannot start, the
/// next ones wait in the queue in the order the test submits them, and opening the gate
/// lets the two transactions run.
@Suite(.timeLimit(.minutes(2))) struct SQLiteGroupCommitTests {
    @Test func concurrentAppendsGetGapFreeSequencesInEachConversation() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = SQLiteConversationStore(database: try directory.newDatabase())
        let conversations = 4
        let tasks = 32
        let appendsPerTask = 25
        let returned = try await withThrowingTaskGroup(of: (Int, [Turn]).self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var turns: [Turn] = []
                    for i in 0..<appendsPerTask {
                        let turn = Turn(message: .user("\(task):\(i)"), metadata: ["task": "\(task)"])
                        turns.append(try await store.append(turn, to: "c\(task % conversations)", tenant: "t"))
                    }
                    return (task, turns)
                }
            }
            return try await group.reduce(into: [Int: [Turn]]()) { $0[$1.0] = $1.1 }
        }

        let perConversation = tasks / conversations * appendsPerTask
        for c in 0..<conversations {
            let loaded = try await store.load(conversationID: "c\(c)", tenant: "t", last: nil)
            #expect(loaded.map(\.sequence) == Array(0..<perConversation), "c\(c): the sequences have gaps")
            let expected = Set((0..<tasks).filter { $0 % conversations == c }.flatMap { task in
                (0..<appendsPerTask).map { "\(task):\($0)" }
            })
            #expect(Set(loaded.map(\.message.text)) == expected, "c\(c): appends are missing")
            for (task, turns) in returned where task % conversations == c {
                // What each append returned is what was stored, and a task's appends (each
                // awaited before the next) are stored in the order it made them.
                #expect(turns.map { loaded[$0.sequence] } == turns)
                #expect(turns.map(\.sequence) == turns.map(\.sequence).sorted())
                #expect(turns.map(\.message.text) == (0..<appendsPerTask).map { "\(task):\($0)" })
            }
        }
        let statistics = store.database.groupCommit.statistics
        #expect(statistics.writes == tasks * appendsPerTask)
        // 32 writers and a sync per commit: appends share transactions.
        #expect(statistics.batches < statistics.writes)
        #expect(statistics.largestBatch > 1)
    }

    @Test func aFailingAppendDoesNotFailOrLoseItsBatchMates() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try directory.newDatabase()
        let store = SQLiteConversationStore(database: database)
        // A constraint of the test's own: a turn with metadata "poison" cannot be stored. It
        // fails on the last statement of the append, after the conversation and the turn rows
        // were written: those must be undone with it.
        try await database.execute(
            """
            CREATE TRIGGER poison BEFORE INSERT ON turn_metadata WHEN NEW.key = 'poison'
            BEGIN SELECT RAISE(ABORT, 'poisoned turn'); END
            """
        )

        let gate = try await WriterGate(database)
        defer { gate.open() }
        let first = try await gate.submitInFlight(store, Turn(message: .user("a")), to: "c")
        let x = try await gate.submitWaiting(store, Turn(message: .user("x")), to: "c")
        let poison = ["poison": "1"]
        let poisoned = try await gate.submitWaiting(store, Turn(message: .user("p"), metadata: poison), to: "c")
        let poisonedElsewhere = try await gate.submitWaiting(store, Turn(message: .user("q"), metadata: poison), to: "new")
        let y = try await gate.submitWaiting(store, Turn(message: .user("y")), to: "c")
        gate.open()

        #expect(try await first.value.sequence == 0)
        #expect(try await x.value.sequence == 1)
        let error = await #expect(throws: HarnessError.self) { try await poisoned.value }
        #expect(error?.code == .storage)
        #expect(error?.message.contains("poisoned turn") == true)
        await #expect(throws: HarnessError.self) { try await poisonedElsewhere.value }
        #expect(try await y.value.sequence == 2)

        let statistics = database.groupCommit.statistics
        #expect(statistics == .init(batches: 2, writes: 5, largestBatch: 4), "x, both poisoned turns and y shared a batch")
        let loaded = try await store.load(conversationID: "c", tenant: "t", last: nil)
        #expect(loaded.map(\.message.text) == ["a", "x", "y"])
        #expect(loaded.map(\.sequence) == [0, 1, 2])
        // The failed append to a new conversation did not create it: its savepoint held both.
        #expect(try await store.list(tenant: "t", limit: 10, offset: 0).map(\.id) == ["c"])
        #expect(try await store.append(Turn(message: .user("z")), to: "c", tenant: "t").sequence == 3)
    }

    @Test func aTransactionThatFailsFailsEveryAppendInIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try directory.newDatabase()
        let store = SQLiteConversationStore(database: database)
        // RAISE(ROLLBACK) rolls back the whole transaction, as SQLite does on some I/O errors.
        try await database.execute(
            """
            CREATE TRIGGER doom BEFORE INSERT ON turns WHEN NEW.model = 'doom'
            BEGIN SELECT RAISE(ROLLBACK, 'doomed transaction'); END
            """
        )

        let gate = try await WriterGate(database)
        defer { gate.open() }
        let first = try await gate.submitInFlight(store, Turn(message: .user("a")), to: "c")
        let x = try await gate.submitWaiting(store, Turn(message: .user("x")), to: "c")
        let doomed = try await gate.submitWaiting(store, Turn(message: .user("d"), model: "doom"), to: "c")
        let y = try await gate.submitWaiting(store, Turn(message: .user("y")), to: "other")
        gate.open()

        #expect(try await first.value.sequence == 0)
        for task in [x, doomed, y] {
            // Each gets the error that failed the transaction, not a consequence of it.
            let error = await #expect(throws: HarnessError.self) { try await task.value }
            #expect(error?.code == .storage)
            #expect(error?.message.contains("doomed transaction") == true, "\(String(describing: error))")
        }
        #expect(try await store.load(conversationID: "c", tenant: "t", last: nil).map(\.message.text) == ["a"])
        #expect(try await store.list(tenant: "t", limit: 10, offset: 0).map(\.id) == ["c"])
        // The queue carries on.
        #expect(try await store.append(Turn(message: .user("b")), to: "c", tenant: "t").sequence == 1)
        #expect(try await database.checkIntegrity().isEmpty)
    }

    @Test func anAppendCancelledBeforeItsBatchStartsIsNotMade() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try directory.newDatabase()
        let store = SQLiteConversationStore(database: database)

        let gate = try await WriterGate(database)
        defer { gate.open() }
        let first = try await gate.submitInFlight(store, Turn(message: .user("a")), to: "c")
        let x = try await gate.submitWaiting(store, Turn(message: .user("x")), to: "c")
        let cancelled = try await gate.submitWaiting(store, Turn(message: .user("cancelled")), to: "c")
        let y = try await gate.submitWaiting(store, Turn(message: .user("y")), to: "c")
        cancelled.cancel()
        // It leaves the queue at once, without waiting for the writer.
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(database.groupCommit.waitingCount == 2)
        // The first append's transaction has begun: cancelling it now changes nothing.
        first.cancel()
        gate.open()

        #expect(try await first.value.sequence == 0)
        #expect(try await x.value.sequence == 1)
        #expect(try await y.value.sequence == 2)
        #expect(try await store.load(conversationID: "c", tenant: "t", last: nil).map(\.message.text) == ["a", "x", "y"])
        #expect(database.groupCommit.statistics == .init(batches: 2, writes: 3, largestBatch: 2))

        // A task cancelled before it appends does not append.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await store.append(Turn(message: .user("early")), to: "c", tenant: "t")
        }
        await #expect(throws: CancellationError.self) { try await early.value }
        #expect(try await store.load(conversationID: "c", tenant: "t", last: nil).count == 3)
    }
}

/// Keeps the writer connection of a database busy, in a transaction that does nothing,
/// until ``open()``: writes queue behind it.
final class WriterGate: Sendable {
    private let released = DispatchSemaphore(value: 0)
    private let isOpen = Mutex(false)
    private let database: SQLiteDatabase

    /// Closes the gate: returns once the writer is busy.
    init(_ database: SQLiteDatabase) async throws {
        self.database = database
        let entered = Mutex(false)
        let released = self.released
        Task {
            try await database.write("holding the writer") { _ in
                entered.withLock { $0 = true }
                // A thread of GRDB's writer queue, not of the concurrency pool.
                released.wait()
            }
        }
        try await Self.waitUntil("the writer is held") { entered.withLock { $0 } }
    }

    /// Lets the writer go (again and again: only the first call counts).
    func open() {
        let wasOpen = isOpen.withLock { isOpen in
            defer { isOpen = true }
            return isOpen
        }
        if !wasOpen { released.signal() }
    }

    /// Appends `turn` in a task and returns once the append was taken into a transaction
    /// (which waits for the gate). Call it before anything else is submitted.
    func submitInFlight(
        _ store: SQLiteConversationStore,
        _ turn: Turn,
        to conversation: String
    ) async throws -> Task<Turn, any Error> {
        let queue = database.groupCommit
        let batches = queue.statistics.batches
        let task = Task { try await store.append(turn, to: conversation, tenant: "t") }
        try await Self.waitUntil("the append is in flight") {
            queue.statistics.batches == batches + 1 && queue.waitingCount == 0
        }
        return task
    }

    /// Appends `turn` in a task and returns once it waits in the queue, after those
    /// submitted before.
    func submitWaiting(
        _ store: SQLiteConversationStore,
        _ turn: Turn,
        to conversation: String
    ) async throws -> Task<Turn, any Error> {
        let queue = database.groupCommit
        let waiting = queue.waitingCount
        let task = Task { try await store.append(turn, to: conversation, tenant: "t") }
        try await Self.waitUntil("the append waits") { queue.waitingCount == waiting + 1 }
        return task
    }

    static func waitUntil(_ what: String, _ condition: @Sendable () -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while !condition() {
            guard clock.now < deadline else {
                Issue.record("timed out waiting until \(what)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
