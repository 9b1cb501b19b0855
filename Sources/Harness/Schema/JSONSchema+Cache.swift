//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

extension JSONSchema {
    /// Compiled schemas by canonical text, shared by every run: a tool's schema is compiled
    /// once per process, not once per call.
    static let compiledCache = LRUCache<String, CompiledEntry>(capacity: 512)

    /// A compiled schema, or why it did not compile.
    struct CompiledEntry: Sendable {
        var schema: JSONSchema?
        var error: SchemaError?
    }

    /// The compiled form of `schema` (draft 2020-12), from the shared cache.
    /// - Throws: ``SchemaError`` if it does not compile.
    public static func cached(_ schema: JSONValue) throws -> JSONSchema {
        let key = schema.canonicalString
        if let hit = compiledCache.get(key) {
            if let compiled = hit.schema { return compiled }
            throw hit.error ?? SchemaError(schemaPath: "", message: "does not compile")
        }
        do {
            let compiled = try JSONSchema(schema)
            compiledCache.set(key, CompiledEntry(schema: compiled, error: nil))
            return compiled
        } catch let error as SchemaError {
            compiledCache.set(key, CompiledEntry(schema: nil, error: error))
            throw error
        }
    }
}
