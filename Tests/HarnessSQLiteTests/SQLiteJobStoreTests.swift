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
import HarnessSQLite
import Testing

@Suite struct SQLiteJobStoreTests {
    @Test func duplicatesAndEmptyKindListsAndTenancy() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = SQLiteJobStore(database: try directory.newDatabase())
        let t0 = Date(timeIntervalSince1970: 1_767_225_600)
        let job = Job(id: "j", tenant: "t", kind: "k", payload: ["n": 1.5, "s": "x", "a": [true, nil]], createdAt: t0, updatedAt: t0)
        try await store.enqueue(job)
        let duplicate = await #expect(throws: HarnessError.self) { try await store.enqueue(job) }
        #expect(duplicate?.code == .invalidArgument)
        #expect(try await store.claim(owner: "w", kinds: [], leaseDuration: .seconds(1), limit: 5, now: t0).isEmpty)
        #expect(try await store.claim(owner: "w", kinds: ["other"], leaseDuration: .seconds(1), limit: 5, now: t0).isEmpty)
        #expect(try await store.claim(owner: "w", kinds: nil, leaseDuration: .seconds(1), limit: 0, now: t0).isEmpty)
        #expect(try await store.get(id: "j", tenant: "t") == job)
        #expect(try await store.list(tenant: "u", state: nil, limit: 10).isEmpty)
        let claimed = try await store.claim(owner: "w", kinds: ["k", "z"], leaseDuration: .milliseconds(1500), limit: 5, now: t0)
        #expect(claimed.count == 1)
        // What claim returns is what is stored.
        #expect(try await store.get(id: "j", tenant: "t") == claimed.first)
        #expect(claimed.first?.leaseExpiresAt == t0 + 1.5)
        let failed = try await store.fail(jobID: "j", owner: "w", error: "no", retry: false, now: t0 + 1)
        #expect(failed)
        #expect(try await store.get(id: "j", tenant: "t")?.state == .failed)
        #expect(try await store.claim(owner: "w", kinds: nil, leaseDuration: .seconds(1), limit: 5, now: t0 + 2).isEmpty)
    }

    /// Workers on two pools (two processes, in effect) never get the same job.
    @Test func claimsFromTwoPoolsNeverOverlap() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("jobs.sqlite")
        let stores = [SQLiteJobStore(database: try SQLiteDatabase(path: path)), SQLiteJobStore(database: try SQLiteDatabase(path: path))]
        let t0 = Date(timeIntervalSince1970: 1_767_225_600)
        for i in 0..<60 {
            try await stores[0].enqueue(Job(id: "j\(i)", tenant: "t", kind: "k", payload: [:], createdAt: t0 + Double(i), updatedAt: t0))
        }
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<6 {
                let store = stores[worker % 2]
                group.addTask {
                    var mine: [String] = []
                    while true {
                        let got = try await store.claim(owner: "w\(worker)", kinds: ["k"], leaseDuration: .seconds(60), limit: 3, now: t0)
                        if got.isEmpty { return mine }
                        mine += got.map(\.id)
                    }
                }
            }
            var all: [String] = []
            for try await ids in group { all += ids }
            return all
        }
        #expect(claimed.count == 60)
        #expect(Set(claimed).count == 60)
    }
}
