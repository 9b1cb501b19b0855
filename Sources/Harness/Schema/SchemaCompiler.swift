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

/// A compiled schema node. Subschemas are indices into ``SchemaProgram/nodes``.
///
/// A class so that evaluation reads a node without copying it; it is filled in by the
/// compiler and never changed after, which is why it is `@unchecked Sendable`.
final class SchemaNode: @unchecked Sendable {
    /// Where the node is, as `<resource>#<pointer>` (for error paths).
    var location: String = ""
    var constant: Bool?
    var resource: Int = 0
    var ref: Int?
    var dynamicRef: Int?
    /// For `$dynamicRef` that bookends a `$dynamicAnchor`: the anchor looked up in the dynamic scope.
    var dynamicAnchor: String?
    var types: [String]?
    var enumValues: [JSONValue]?
    var constValue: JSONValue?
    var multipleOf: Double?
    var maximum: Double?
    var exclusiveMaximum: Double?
    var minimum: Double?
    var exclusiveMinimum: Double?
    var maxLength: Int?
    var minLength: Int?
    var pattern: CompiledPattern?
    var format: String?
    var prefixItems: [Int] = []
    /// Applies to items after `prefixItems` (2020-12 `items`; draft 7 `items` schema or `additionalItems`).
    var restItems: Int?
    var contains: Int?
    var minContains: Int?
    var maxContains: Int?
    var maxItems: Int?
    var minItems: Int?
    var uniqueItems = false
    var unevaluatedItems: Int?
    var unevaluatedProperties: Int?
    var properties: [String: Int] = [:]
    var patternProperties: [(CompiledPattern, Int)] = []
    var additionalProperties: Int?
    var propertyNames: Int?
    var required: [String] = []
    var dependentRequired: [(String, [String])] = []
    var dependentSchemas: [(String, Int)] = []
    var maxProperties: Int?
    var minProperties: Int?
    var allOf: [Int] = []
    var anyOf: [Int] = []
    var oneOf: [Int] = []
    var not: Int?
    var ifSchema: Int?
    var thenSchema: Int?
    var elseSchema: Int?
    /// Has `unevaluated*`: its applicators must report what they evaluated.
    var needsTracking = false

    init() {}
}

/// The compiled form of a schema and everything it references.
struct SchemaProgram: Sendable {
    var nodes: [SchemaNode]
    var root: Int
    /// Per resource, its `$dynamicAnchor`s.
    var dynamicAnchors: [Int: [String: Int]]
    var formatAssertion: Bool
}

/// Compiles schemas: indexes identifiers, resolves references, builds the node table.
struct SchemaCompiler {
    struct Location: Hashable {
        var doc: Int
        var pointer: [String]
        var key: String { "\(doc)#" + pointer.map(SchemaURI.escapeToken).map { "/" + $0 }.joined() }
    }

    struct Info {
        var base: String
        var draft: JSONSchema.Draft
        var resource: Int
        /// False under a meta-schema whose `$vocabulary` leaves out the validation vocabulary.
        var validation = true
    }

    var options: JSONSchema.Options
    var documents: [JSONValue] = []
    /// Absolute URIs (resources, `uri#anchor`) to locations.
    var uris: [String: Location] = [:]
    /// Schema locations seen by the indexer, with their base URI and dialect.
    var infos: [String: Info] = [:]
    var resources: [String] = []
    var resourceIndex: [String: Int] = [:]
    var dynamicAnchorLocations: [Int: [String: Location]] = [:]
    var nodes: [SchemaNode] = []
    var compiled: [String: Int] = [:]

    static func compile(_ schema: JSONValue, options: JSONSchema.Options) throws -> SchemaProgram {
        var c = SchemaCompiler(options: options)
        let root = try c.addDocument(schema, uri: options.baseURI, defaultDraft: options.draft)
        let rootNode = try c.compile(root)
        // Compile every dynamic anchor (they may be reached only through the dynamic scope);
        // compiling may load documents that declare more, hence the loop.
        var anchors: [Int: [String: Int]] = [:]
        var progress = true
        while progress {
            progress = false
            for (resource, byName) in c.dynamicAnchorLocations {
                for (name, location) in byName where anchors[resource]?[name] == nil {
                    anchors[resource, default: [:]][name] = try c.compile(location)
                    progress = true
                }
            }
        }
        return SchemaProgram(nodes: c.nodes, root: rootNode, dynamicAnchors: anchors, formatAssertion: options.formatAssertion)
    }

    // MARK: - Indexing

    mutating func addDocument(_ json: JSONValue, uri: String, defaultDraft: JSONSchema.Draft) throws -> Location {
        let doc = documents.count
        documents.append(json)
        let base = SchemaURI.split(uri).base
        let location = Location(doc: doc, pointer: [])
        uris[base] = location
        index(json, at: location, base: base, draft: Self.draft(of: json) ?? defaultDraft, resource: resourceID(base),
              validation: validationVocabulary(of: json))
        return location
    }

    mutating func resourceID(_ base: String) -> Int {
        if let id = resourceIndex[base] { return id }
        resources.append(base)
        resourceIndex[base] = resources.count - 1
        return resources.count - 1
    }

    /// Whether the meta-schema named by `$schema` includes the validation vocabulary (a custom
    /// meta-schema can leave it out; then `type`, `minimum` and the rest are not checked).
    func validationVocabulary(of json: JSONValue) -> Bool {
        guard let uri = json["$schema"]?.stringValue, Self.draft(of: json) == nil,
            let meta = options.resolver?(SchemaURI.split(uri).base), let vocabularies = meta["$vocabulary"]?.objectValue
        else { return true }
        return vocabularies.keys.contains { $0.hasSuffix("/vocab/validation") }
    }

    /// The dialect named by `$schema`, if it is one of the official meta-schemas.
    static func draft(of json: JSONValue) -> JSONSchema.Draft? {
        guard let s = json["$schema"]?.stringValue else { return nil }
        var uri = SchemaURI.split(s).base
        if uri.hasPrefix("https://") { uri = "http://" + uri.dropFirst("https://".count) }
        switch uri {
        case "http://json-schema.org/draft-07/schema", "http://json-schema.org/draft-06/schema",
            "http://json-schema.org/draft-04/schema":
            return .draft7
        case "http://json-schema.org/draft/2020-12/schema", "http://json-schema.org/draft/2019-09/schema":
            return .draft2020_12
        default:
            return nil
        }
    }

    /// Keywords whose value is a schema, an array of schemas, or an object of schemas.
    static let singleSchemaKeywords: Set<String> = [
        "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
        "unevaluatedItems", "unevaluatedProperties", "additionalItems", "items",
    ]
    static let arraySchemaKeywords: Set<String> = ["allOf", "anyOf", "oneOf", "prefixItems", "items"]
    static let objectSchemaKeywords: Set<String> = [
        "properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies",
    ]

    mutating func index(
        _ json: JSONValue, at location: Location, base: String, draft: JSONSchema.Draft, resource: Int, validation: Bool
    ) {
        guard case .object(let o) = json else {
            infos[location.key] = Info(base: base, draft: draft, resource: resource, validation: validation)
            return
        }
        var base = base
        var draft = draft
        var resource = resource
        let refSilencesSiblings = draft == .draft7 && o["$ref"] != nil
        if !refSilencesSiblings, let id = o["$id"]?.stringValue {
            if draft == .draft7, id.hasPrefix("#") {
                // draft 7: a fragment-only $id is a plain-name anchor.
                uris[base + id] = location
            } else {
                let resolved = SchemaURI.split(SchemaURI.resolve(id, against: base)).base
                base = resolved
                if let d = Self.draft(of: json) { draft = d }
                resource = resourceID(base)
                uris[base] = location
            }
        }
        if draft == .draft2020_12 {
            if let anchor = o["$anchor"]?.stringValue { uris[base + "#" + anchor] = location }
            if let anchor = o["$dynamicAnchor"]?.stringValue {
                uris[base + "#" + anchor] = location
                dynamicAnchorLocations[resource, default: [:]][anchor] = location
            }
        }
        infos[location.key] = Info(base: base, draft: draft, resource: resource, validation: validation)
        for (key, value) in o {
            let child = Location(doc: location.doc, pointer: location.pointer + [key])
            if Self.objectSchemaKeywords.contains(key), case .object(let members) = value {
                for (name, sub) in members {
                    if key == "dependencies", sub.arrayValue != nil { continue }
                    index(sub, at: Location(doc: location.doc, pointer: child.pointer + [name]), base: base, draft: draft, resource: resource, validation: validation)
                }
            } else if Self.arraySchemaKeywords.contains(key), case .array(let items) = value {
                for (i, sub) in items.enumerated() {
                    index(sub, at: Location(doc: location.doc, pointer: child.pointer + [String(i)]), base: base, draft: draft, resource: resource, validation: validation)
                }
            } else if Self.singleSchemaKeywords.contains(key) {
                index(value, at: child, base: base, draft: draft, resource: resource, validation: validation)
            }
        }
    }

    // MARK: - References

    func value(at location: Location) -> JSONValue? {
        var v = documents[location.doc]
        for token in location.pointer {
            switch v {
            case .object(let o):
                guard let next = o[token] else { return nil }
                v = next
            case .array(let a):
                guard let i = Int(token), a.indices.contains(i) else { return nil }
                v = a[i]
            default:
                return nil
            }
        }
        return v
    }

    /// The base URI, dialect and resource at `location` (from the nearest indexed ancestor
    /// when the location was not reached as a schema).
    func info(at location: Location) -> Info {
        var pointer = location.pointer
        while true {
            if let info = infos[Location(doc: location.doc, pointer: pointer).key] { return info }
            if pointer.isEmpty { return Info(base: options.baseURI, draft: options.draft, resource: 0) }
            pointer.removeLast()
        }
    }

    mutating func resolve(_ reference: String, from base: String, at path: String) throws -> Location {
        let absolute = SchemaURI.resolve(reference, against: base)
        let (documentURI, fragment) = SchemaURI.split(absolute)
        if uris[documentURI] == nil {
            guard let resolver = options.resolver, let json = resolver(documentURI) else {
                throw SchemaError(schemaPath: path, message: "cannot resolve the reference '\(reference)' (\(absolute))")
            }
            _ = try addDocument(json, uri: documentURI, defaultDraft: options.draft)
        }
        guard let root = uris[documentURI] else {
            throw SchemaError(schemaPath: path, message: "cannot resolve the reference '\(reference)'")
        }
        guard let fragment, !fragment.isEmpty else { return root }
        if let tokens = SchemaURI.pointerTokens(fragment) {
            let target = Location(doc: root.doc, pointer: root.pointer + tokens)
            guard value(at: target) != nil else {
                throw SchemaError(schemaPath: path, message: "the reference '\(reference)' points at nothing")
            }
            return target
        }
        guard let anchored = uris[documentURI + "#" + fragment] else {
            throw SchemaError(schemaPath: path, message: "no anchor '\(fragment)' for the reference '\(reference)'")
        }
        return anchored
    }

    // MARK: - Compiling

    mutating func compile(_ location: Location) throws -> Int {
        if let done = compiled[location.key] { return done }
        guard let json = value(at: location) else {
            throw SchemaError(schemaPath: location.key, message: "no schema here")
        }
        let index = nodes.count
        compiled[location.key] = index
        nodes.append(SchemaNode())
        let info = info(at: location)
        let node = SchemaNode()
        node.location = resources.indices.contains(info.resource)
            ? "#" + location.pointer.map { "/" + SchemaURI.escapeToken($0) }.joined() : location.key
        node.resource = info.resource
        let path = node.location
        switch json {
        case .bool(let b):
            node.constant = b
        case .object(let o):
            try fill(node, from: o, at: location, info: info, path: path)
        default:
            throw SchemaError(schemaPath: path, message: "a schema must be an object or a boolean, not \(json.typeName)")
        }
        nodes[index] = node
        return index
    }

    mutating func sub(_ location: Location, _ keys: String...) throws -> Int {
        try compile(Location(doc: location.doc, pointer: location.pointer + keys))
    }

    /// `o[key]` as a non-negative integer count, if present.
    static func count(_ o: [String: JSONValue], _ key: String, _ path: String) throws -> Int? {
        guard let v = o[key] else { return nil }
        guard let d = v.doubleValue, d >= 0, d.rounded() == d, d < 1e15 else {
            throw SchemaError(schemaPath: path + "/" + key, message: "must be a non-negative integer")
        }
        return Int(d)
    }

    /// `text` compiled as a regular expression (and as a fast simple pattern when it is one).
    static func pattern(_ text: String, _ key: String, _ path: String) throws -> CompiledPattern {
        do {
            return CompiledPattern(pattern: text, regex: try NSRegularExpression(pattern: text))
        } catch {
            throw SchemaError(schemaPath: path + "/" + key, message: "'\(text)' is not a valid regular expression")
        }
    }

    mutating func fill(_ node: SchemaNode, from o: [String: JSONValue], at location: Location, info: Info, path: String) throws {
        func number(_ key: String) throws -> Double? {
            guard let v = o[key] else { return nil }
            guard let d = v.doubleValue else { throw SchemaError(schemaPath: path + "/" + key, message: "must be a number") }
            return d
        }
        func count(_ key: String) throws -> Int? { try Self.count(o, key, path) }
        func pattern(_ text: String, _ key: String) throws -> CompiledPattern { try Self.pattern(text, key, path) }

        if let ref = o["$ref"]?.stringValue {
            node.ref = try compile(try resolve(ref, from: info.base, at: path + "/$ref"))
            if info.draft == .draft7 { return }  // draft 7: $ref silences its siblings
        }
        if info.draft == .draft2020_12, let ref = o["$dynamicRef"]?.stringValue {
            let target = try resolve(ref, from: info.base, at: path + "/$dynamicRef")
            node.dynamicRef = try compile(target)
            let fragment = SchemaURI.split(SchemaURI.resolve(ref, against: info.base)).fragment ?? ""
            if !fragment.isEmpty, SchemaURI.pointerTokens(fragment) == nil,
                value(at: target)?["$dynamicAnchor"]?.stringValue == fragment
            {
                node.dynamicAnchor = fragment
            }
        }
        if !info.validation {
            try fillApplicators(node, from: o, at: location, info: info, path: path)
            return
        }
        if let t = o["type"] {
            switch t {
            case .string(let s): node.types = [s]
            case .array(let a): node.types = a.compactMap(\.stringValue)
            default: throw SchemaError(schemaPath: path + "/type", message: "must be a string or an array of strings")
            }
        }
        if let e = o["enum"] {
            guard case .array(let values) = e else { throw SchemaError(schemaPath: path + "/enum", message: "must be an array") }
            node.enumValues = values
        }
        node.constValue = o["const"]
        node.multipleOf = try number("multipleOf")
        node.maximum = try number("maximum")
        node.minimum = try number("minimum")
        node.exclusiveMaximum = try number("exclusiveMaximum")
        node.exclusiveMinimum = try number("exclusiveMinimum")
        node.maxLength = try count("maxLength")
        node.minLength = try count("minLength")
        if let p = o["pattern"]?.stringValue { node.pattern = try pattern(p, "pattern") }
        node.format = o["format"]?.stringValue
        node.maxItems = try count("maxItems")
        node.minItems = try count("minItems")
        node.uniqueItems = o["uniqueItems"]?.boolValue ?? false
        node.maxProperties = try count("maxProperties")
        node.minProperties = try count("minProperties")
        node.required = o["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if let dr = o["dependentRequired"]?.objectValue {
            node.dependentRequired = dr.map { ($0.key, $0.value.arrayValue?.compactMap(\.stringValue) ?? []) }
        }

        try fillApplicators(node, from: o, at: location, info: info, path: path)
    }

    /// The applicator keywords (subschemas), which every vocabulary set keeps.
    mutating func fillApplicators(_ node: SchemaNode, from o: [String: JSONValue], at location: Location, info: Info, path: String) throws {
        func count(_ key: String) throws -> Int? { try Self.count(o, key, path) }
        func pattern(_ text: String, _ key: String) throws -> CompiledPattern { try Self.pattern(text, key, path) }
        // Arrays.
        if info.draft == .draft2020_12 {
            if let prefix = o["prefixItems"]?.arrayValue {
                node.prefixItems = try prefix.indices.map { try sub(location, "prefixItems", String($0)) }
            }
            if o["items"] != nil { node.restItems = try sub(location, "items") }
        } else if let items = o["items"] {
            if case .array(let list) = items {
                node.prefixItems = try list.indices.map { try sub(location, "items", String($0)) }
                if o["additionalItems"] != nil { node.restItems = try sub(location, "additionalItems") }
            } else {
                node.restItems = try sub(location, "items")
            }
        }
        if o["contains"] != nil {
            node.contains = try sub(location, "contains")
            if info.draft == .draft2020_12, info.validation {
                node.minContains = try count("minContains")
                node.maxContains = try count("maxContains")
            }
        }

        // Objects.
        if let props = o["properties"]?.objectValue {
            for name in props.keys { node.properties[name] = try sub(location, "properties", name) }
        }
        if let patterns = o["patternProperties"]?.objectValue {
            for name in patterns.keys.sorted() {
                node.patternProperties.append((try pattern(name, "patternProperties"), try sub(location, "patternProperties", name)))
            }
        }
        if o["additionalProperties"] != nil { node.additionalProperties = try sub(location, "additionalProperties") }
        if o["propertyNames"] != nil { node.propertyNames = try sub(location, "propertyNames") }
        if let ds = o["dependentSchemas"]?.objectValue {
            node.dependentSchemas = try ds.keys.map { ($0, try sub(location, "dependentSchemas", $0)) }
        }
        if info.draft == .draft7, let deps = o["dependencies"]?.objectValue {
            for (name, dep) in deps {
                if let list = dep.arrayValue {
                    node.dependentRequired.append((name, list.compactMap(\.stringValue)))
                } else {
                    node.dependentSchemas.append((name, try sub(location, "dependencies", name)))
                }
            }
        }

        // Logic.
        if let list = o["allOf"]?.arrayValue { node.allOf = try list.indices.map { try sub(location, "allOf", String($0)) } }
        if let list = o["anyOf"]?.arrayValue { node.anyOf = try list.indices.map { try sub(location, "anyOf", String($0)) } }
        if let list = o["oneOf"]?.arrayValue { node.oneOf = try list.indices.map { try sub(location, "oneOf", String($0)) } }
        if o["not"] != nil { node.not = try sub(location, "not") }
        if o["if"] != nil {
            node.ifSchema = try sub(location, "if")
            if o["then"] != nil { node.thenSchema = try sub(location, "then") }
            if o["else"] != nil { node.elseSchema = try sub(location, "else") }
        }
        if info.draft == .draft2020_12 {
            if o["unevaluatedItems"] != nil { node.unevaluatedItems = try sub(location, "unevaluatedItems") }
            if o["unevaluatedProperties"] != nil { node.unevaluatedProperties = try sub(location, "unevaluatedProperties") }
            node.needsTracking = node.unevaluatedItems != nil || node.unevaluatedProperties != nil
        }
        // Definitions are compiled when referenced; nothing to do for $defs here.
    }
}
