//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import Prometheus
import CoreMetrics
import HarnessConfig
import Crypto
import Foundation
public import HarnessCore

/// Deterministic embeddings with no network: each text becomes a unit vector derived from
/// the SHA-256 of its words (a hashed bag of words), so equal texts get equal vectors and
/// texts sharing words are closer. The scripted model's embedder.
public struct HashEmbedder: Embedder {
    public let providerName = "scripted"
    public var dimensions: Int

    public init(dimensions: Int = 64) {
        self.dimensions = max(2, dimensions)
    }

    public func embed(_ texts: [String], model: String) async throws -> Embeddings {
        var tokens = 0
        let vectors = texts.map { text -> [Float] in
            var v = [Float](repeating: 0, count: dimensions)
            for word in text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
                tokens += 1
                let digest = Array(SHA256.hash(data: Data(word.utf8)))
                let index = (Int(digest[0]) << 8 | Int(digest[1])) % dimensions
                v[index] += digest[2] & 1 == 0 ? 1 : -1
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return norm > 0 ? v.map { $0 / norm } : v
        }
        return Embeddings(vectors: vectors, usage: Usage(inputTokens: max(tokens, texts.count), outputTokens: 0), model: model)
    }
}
