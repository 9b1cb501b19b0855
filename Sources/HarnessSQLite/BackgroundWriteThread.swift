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
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A thread of the lowest scheduling priority that runs bookkeeping writes — the usage
/// batches a gateway makes every 100 ms — so that they give way to request handling.
///
/// A batch of a few hundred rows keeps a core busy for a millisecond or two. Run on a thread
/// of normal priority, a request thread woken on that core waits for it, which is what a
/// gateway's p99 latency on a small machine was made of. On Linux the thread runs under
/// `SCHED_IDLE`: any thread of normal priority that wakes up takes the core at once. Under
/// saturation the writes still run (the scheduler gives idle threads a small share), only
/// later, with bigger batches. Elsewhere it runs at the `background` quality of service.
///
/// Jobs run one at a time, in the order given. The thread is started on first use and lives
/// as long as the process.
final class BackgroundWriteThread: Sendable {
    /// The process's one background write thread.
    static let shared = BackgroundWriteThread(name: "harness-bg-write")

    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let wakeUp = DispatchSemaphore(value: 0)
    /// Whether the thread got its low priority (false where the system refused).
    let lowered = Atomic<Bool>(false)

    private init(name: String) {
        let thread = Thread { [self] in
            Thread.current.name = name  // sets the system thread name, seen in `ps -L`
            self.lowered.store(Self.lowerPriority(), ordering: .relaxed)
            while true {
                self.wakeUp.wait()
                let job = self.jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                job?()
            }
        }
        #if !os(Linux)
        thread.qualityOfService = .background
        #endif
        thread.start()
    }

    /// Runs `body` on the thread and returns its result. Not cancellable: once queued, the
    /// job runs to its end (a transaction is all or nothing anyway).
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            jobs.withLock { $0.append { continuation.resume(with: Result { try body() }) } }
            wakeUp.signal()
        }
    }

    /// Puts the calling thread under `SCHED_IDLE` (Linux). Returns whether that worked.
    private static func lowerPriority() -> Bool {
        #if os(Linux)
        var parameters = sched_param()
        parameters.sched_priority = 0
        // SCHED_IDLE is 5 on Linux; Glibc does not always export the constant to Swift.
        return sched_setscheduler(0, 5, &parameters) == 0
        #else
        return true
        #endif
    }
}
