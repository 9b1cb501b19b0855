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

/// What a valid subschema evaluated, for `unevaluatedProperties` and `unevaluatedItems`.
struct Annotations {
    var properties: Set<String> = []
    var allItems = false
    var itemPrefix = 0
    var items: Set<Int> = []

    mutating func merge(_ other: Annotations) {
        if !other.properties.isEmpty { properties.formUnion(other.properties) }
        allItems = allItems || other.allItems
        itemPrefix = max(itemPrefix, other.itemPrefix)
        if !other.items.isEmpty { items.formUnion(other.items) }
    }

    func evaluatedItem(_ i: Int) -> Bool { allItems || i < itemPrefix || items.contains(i) }
}

/// Applies a compiled schema to an instance.
struct SchemaEvaluator {
    let program: SchemaProgram
    var collectErrors: Bool
    var errors: [ValidationError] = []
    /// The instance path, as pointer tokens.
    var path: [String] = []
    /// Resources entered, outermost first (the dynamic scope).
    var scope: [Int] = []
    /// Nested evaluations now running: bounds schemas that recurse without consuming the
    /// instance (`{"$ref": "#"}`), which would otherwise never end.
    var depth = 0
    static let maxDepth = 256

    init(program: SchemaProgram, collectErrors: Bool) {
        self.program = program
        self.collectErrors = collectErrors
    }

    mutating func fail(_ node: SchemaNode, _ keyword: String, _ message: @autoclosure () -> String) {
        guard collectErrors else { return }
        errors.append(ValidationError(
            instancePath: path.map { "/" + SchemaURI.escapeToken($0) }.joined(),
            schemaPath: node.location == "#" ? "#/" + keyword : node.location + "/" + keyword,
            keyword: keyword, message: message()
        ))
    }

    /// Evaluates `branch` for validity only: its errors are not kept.
    mutating func check(_ branch: Int, _ instance: JSONValue, track: Bool) -> Annotations? {
        let saved = collectErrors
        collectErrors = false
        defer { collectErrors = saved }
        return evaluate(branch, instance, track: track)
    }

    /// Evaluates node `n` on `instance`; `nil` when invalid, else what it evaluated (filled in
    /// only when `track` asks for it).
    mutating func evaluate(_ n: Int, _ instance: JSONValue, track: Bool) -> Annotations? {
        let node = program.nodes[n]
        if let constant = node.constant {
            if !constant { fail(node, "false", "no value is allowed here") }
            return constant ? Annotations() : nil
        }
        guard depth < Self.maxDepth else {
            fail(node, "$ref", "the schema recurses more than \(Self.maxDepth) levels deep (a reference cycle that never reaches a value)")
            return nil
        }
        depth += 1
        let entered = scope.last != node.resource
        if entered { scope.append(node.resource) }
        defer {
            depth -= 1
            if entered { scope.removeLast() }
        }

        let track = track || node.needsTracking
        var annotations = Annotations()
        var valid = true
        func merge(_ a: Annotations?) -> Bool {
            guard let a else { return false }
            if track { annotations.merge(a) }
            return true
        }

        if let ref = node.ref, !merge(evaluate(ref, instance, track: track)) {
            valid = false
            if !collectErrors { return nil }
        }
        if let dynamic = node.dynamicRef {
            var target = dynamic
            if let anchor = node.dynamicAnchor {
                for resource in scope {
                    if let found = program.dynamicAnchors[resource]?[anchor] {
                        target = found
                        break
                    }
                }
            }
            if !merge(evaluate(target, instance, track: track)) {
                valid = false
                if !collectErrors { return nil }
            }
        }

        if let types = node.types, !types.contains(where: { Self.matches(instance, type: $0) }) {
            fail(node, "type", "must be of type \(types.joined(separator: " or ")), not \(instance.typeName)")
            valid = false
            if !collectErrors { return nil }
        }
        if let values = node.enumValues, !values.contains(instance) {
            let shown = values.prefix(10).map(\.canonicalString).joined(separator: ", ")
            fail(node, "enum", "must be one of \(shown)\(values.count > 10 ? ", …" : "")")
            valid = false
            if !collectErrors { return nil }
        }
        if let constant = node.constValue, constant != instance {
            fail(node, "const", "must be \(constant.canonicalString)")
            valid = false
            if !collectErrors { return nil }
        }

        switch instance {
        case .integer, .number:
            if !checkNumber(node, instance) {
                valid = false
                if !collectErrors { return nil }
            }
        case .string(let s):
            if !checkString(node, s) {
                valid = false
                if !collectErrors { return nil }
            }
        case .array(let items):
            if !checkArray(node, items, track: track, annotations: &annotations) {
                valid = false
                if !collectErrors { return nil }
            }
        case .object(let members):
            if !checkObject(node, members, track: track, annotations: &annotations) {
                valid = false
                if !collectErrors { return nil }
            }
        default:
            break
        }

        // In-place applicators.
        for (i, branch) in node.allOf.enumerated() {
            let before = errors.count
            if !merge(evaluate(branch, instance, track: track)) {
                if errors.count == before { fail(node, "allOf/\(i)", "does not match schema \(i) of allOf") }
                valid = false
                if !collectErrors { return nil }
            }
        }
        if !node.anyOf.isEmpty {
            var any = false
            for branch in node.anyOf {
                if merge(check(branch, instance, track: track)) {
                    any = true
                    if !track { break }  // annotations need every valid branch
                }
            }
            if !any {
                fail(node, "anyOf", "must match at least one of \(node.anyOf.count) schemas (anyOf)")
                valid = false
                if !collectErrors { return nil }
            }
        }
        if !node.oneOf.isEmpty {
            var matched = 0
            var matchedAnnotations = Annotations()
            for branch in node.oneOf {
                if let a = check(branch, instance, track: track) {
                    matched += 1
                    matchedAnnotations = a
                    if matched > 1 { break }
                }
            }
            if matched == 1 {
                if track { annotations.merge(matchedAnnotations) }
            } else {
                fail(node, "oneOf", matched == 0
                    ? "must match exactly one of \(node.oneOf.count) schemas (oneOf), but matches none"
                    : "must match exactly one of \(node.oneOf.count) schemas (oneOf), but matches more than one")
                valid = false
                if !collectErrors { return nil }
            }
        }
        if let not = node.not, check(not, instance, track: false) != nil {
            fail(node, "not", "must not match the schema in 'not'")
            valid = false
            if !collectErrors { return nil }
        }
        if let condition = node.ifSchema {
            if let a = check(condition, instance, track: track) {
                if track { annotations.merge(a) }
                let before = errors.count
                if let then = node.thenSchema, !merge(evaluate(then, instance, track: track)) {
                    if errors.count == before { fail(node, "then", "matches 'if' but not 'then'") }
                    valid = false
                    if !collectErrors { return nil }
                }
            } else if let otherwise = node.elseSchema, case let before = errors.count,
                !merge(evaluate(otherwise, instance, track: track))
            {
                if errors.count == before { fail(node, "else", "does not match 'if' nor 'else'") }
                valid = false
                if !collectErrors { return nil }
            }
        }
        if case .object(let members) = instance {
            for (name, branch) in node.dependentSchemas where members[name] != nil {
                if !merge(evaluate(branch, instance, track: track)) {
                    valid = false
                    if !collectErrors { return nil }
                }
            }
        }

        // Unevaluated, last: they see what everything else evaluated.
        if let unevaluated = node.unevaluatedItems, case .array(let items) = instance {
            for i in items.indices where !annotations.evaluatedItem(i) {
                path.append(String(i))
                let ok = evaluate(unevaluated, items[i], track: false) != nil
                path.removeLast()
                if !ok {
                    fail(node, "unevaluatedItems", "item \(i) is not allowed (unevaluatedItems)")
                    valid = false
                    if !collectErrors { return nil }
                }
            }
            annotations.allItems = true
        }
        if let unevaluated = node.unevaluatedProperties, case .object(let members) = instance {
            for (name, value) in members where !annotations.properties.contains(name) {
                path.append(name)
                let ok = evaluate(unevaluated, value, track: false) != nil
                path.removeLast()
                if !ok {
                    fail(node, "unevaluatedProperties", "property '\(name)' is not allowed (unevaluatedProperties)")
                    valid = false
                    if !collectErrors { return nil }
                }
                annotations.properties.insert(name)
            }
        }
        return valid ? annotations : nil
    }

    static func matches(_ instance: JSONValue, type: String) -> Bool {
        switch (type, instance) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
        case ("number", .integer), ("number", .number), ("integer", .integer): return true
        case ("integer", .number(let d)): return d.isFinite && d.rounded() == d
        default: return false
        }
    }

    mutating func checkNumber(_ node: SchemaNode, _ instance: JSONValue) -> Bool {
        guard let x = instance.doubleValue else { return true }
        var ok = true
        if let m = node.multipleOf, m > 0 {
            let isMultiple: Bool
            if case .integer(let i) = instance, let mi = Int(exactly: m) {
                isMultiple = i % mi == 0
            } else {
                let q = x / m
                isMultiple = q.isFinite && abs(q - q.rounded()) <= 1e-9 * max(1, abs(q))
            }
            if !isMultiple { fail(node, "multipleOf", "must be a multiple of \(JSONValue.number(m))"); ok = false }
        }
        if let limit = node.maximum, x > limit { fail(node, "maximum", "must be at most \(JSONValue.number(limit))"); ok = false }
        if let limit = node.exclusiveMaximum, x >= limit { fail(node, "exclusiveMaximum", "must be less than \(JSONValue.number(limit))"); ok = false }
        if let limit = node.minimum, x < limit { fail(node, "minimum", "must be at least \(JSONValue.number(limit))"); ok = false }
        if let limit = node.exclusiveMinimum, x <= limit { fail(node, "exclusiveMinimum", "must be greater than \(JSONValue.number(limit))"); ok = false }
        return ok
    }

    mutating func checkString(_ node: SchemaNode, _ s: String) -> Bool {
        var ok = true
        if node.maxLength != nil || node.minLength != nil {
            let length = s.unicodeScalars.count
            if let limit = node.maxLength, length > limit { fail(node, "maxLength", "must be at most \(limit) characters long, not \(length)"); ok = false }
            if let limit = node.minLength, length < limit { fail(node, "minLength", "must be at least \(limit) characters long, not \(length)"); ok = false }
        }
        if let p = node.pattern, !Self.search(p, s) {
            fail(node, "pattern", "must match the pattern \(JSONValue.quoted(p.pattern))")
            ok = false
        }
        if program.formatAssertion, let format = node.format, FormatValidator.isValid(s, format: format) == false {
            fail(node, "format", "must be a valid \(format)")
            ok = false
        }
        return ok
    }

    static func search(_ p: CompiledPattern, _ s: String) -> Bool { p.search(s) }

    mutating func checkArray(_ node: SchemaNode, _ items: [JSONValue], track: Bool, annotations: inout Annotations) -> Bool {
        var ok = true
        if let limit = node.maxItems, items.count > limit { fail(node, "maxItems", "must have at most \(limit) items, not \(items.count)"); ok = false }
        if let limit = node.minItems, items.count < limit { fail(node, "minItems", "must have at least \(limit) items, not \(items.count)"); ok = false }
        if !ok, !collectErrors { return false }
        if node.uniqueItems {
            var seen = Set<JSONValue>()
            for (i, item) in items.enumerated() where !seen.insert(item).inserted {
                fail(node, "uniqueItems", "items must be unique; item \(i) repeats an earlier one")
                ok = false
                break
            }
        }
        for (i, schema) in node.prefixItems.enumerated() where i < items.count {
            path.append(String(i))
            let good = evaluate(schema, items[i], track: false) != nil
            path.removeLast()
            if !good {
                ok = false
                if !collectErrors { return false }
            }
        }
        annotations.itemPrefix = max(annotations.itemPrefix, min(items.count, node.prefixItems.count))
        if let rest = node.restItems, items.count > node.prefixItems.count {
            for i in node.prefixItems.count..<items.count {
                path.append(String(i))
                let good = evaluate(rest, items[i], track: false) != nil
                path.removeLast()
                if !good {
                    ok = false
                    if !collectErrors { return false }
                }
            }
            annotations.allItems = true
        }
        if let contains = node.contains {
            var count = 0
            for (i, item) in items.enumerated() where check(contains, item, track: false) != nil {
                count += 1
                if track { annotations.items.insert(i) }
            }
            let minimum = node.minContains ?? 1
            if count < minimum {
                fail(node, "contains", minimum == 1
                    ? "must contain at least one item matching 'contains'"
                    : "must contain at least \(minimum) items matching 'contains', not \(count)")
                ok = false
            }
            if let maximum = node.maxContains, count > maximum {
                fail(node, "maxContains", "must contain at most \(maximum) items matching 'contains', not \(count)")
                ok = false
            }
        }
        return ok
    }

    mutating func checkObject(_ node: SchemaNode, _ members: [String: JSONValue], track: Bool, annotations: inout Annotations) -> Bool {
        var ok = true
        if let limit = node.maxProperties, members.count > limit { fail(node, "maxProperties", "must have at most \(limit) properties"); ok = false }
        if let limit = node.minProperties, members.count < limit { fail(node, "minProperties", "must have at least \(limit) properties"); ok = false }
        for name in node.required where members[name] == nil {
            fail(node, "required", "is missing the required property '\(name)'")
            ok = false
            if !collectErrors { return false }
        }
        for (name, needed) in node.dependentRequired where members[name] != nil {
            for other in needed where members[other] == nil {
                fail(node, "dependentRequired", "has '\(name)', so it must also have '\(other)'")
                ok = false
            }
        }
        if !ok, !collectErrors { return false }
        let hasObjectApplicators = !node.properties.isEmpty || !node.patternProperties.isEmpty
            || node.additionalProperties != nil || node.propertyNames != nil
        guard hasObjectApplicators else { return ok }
        for (name, value) in members {
            var covered = false
            if let schema = node.properties[name] {
                covered = true
                path.append(name)
                let good = evaluate(schema, value, track: false) != nil
                path.removeLast()
                if !good {
                    ok = false
                    if !collectErrors { return false }
                }
            }
            for (regex, schema) in node.patternProperties where Self.search(regex, name) {
                covered = true
                path.append(name)
                let good = evaluate(schema, value, track: false) != nil
                path.removeLast()
                if !good {
                    ok = false
                    if !collectErrors { return false }
                }
            }
            if !covered, let additional = node.additionalProperties {
                covered = true
                path.append(name)
                let good = evaluate(additional, value, track: false) != nil
                path.removeLast()
                if !good {
                    if collectErrors, program.nodes[additional].constant == false {
                        errors.removeLast()
                        path.append(name)
                        fail(node, "additionalProperties", "property '\(name)' is not allowed")
                        path.removeLast()
                    }
                    ok = false
                    if !collectErrors { return false }
                }
            }
            if covered, track { annotations.properties.insert(name) }
            if let names = node.propertyNames, check(names, .string(name), track: false) == nil {
                fail(node, "propertyNames", "property name '\(name)' does not match 'propertyNames'")
                ok = false
                if !collectErrors { return false }
            }
        }
        return ok
    }
}
