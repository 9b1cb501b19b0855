//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore

/// A JSON Schema (drafts 2020-12 and 7), compiled once into a reusable validator.
///
/// ```swift
/// let schema = try JSONSchema(["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]])
/// let result = schema.validate(["city": 3])
/// result.isValid          // false
/// result.errors[0].description // "/city: must be of type string, not integer"
/// ```
///
/// Every keyword of the core, applicator, unevaluated and validation vocabularies is
/// checked: `$ref`, `$defs`, `$anchor`, `$dynamicRef`/`$dynamicAnchor`, `$id`, `allOf`,
/// `anyOf`, `oneOf`, `not`, `if`/`then`/`else`, `dependentSchemas`, `prefixItems`, `items`,
/// `contains` with `minContains`/`maxContains`, `unevaluatedItems`,
/// `unevaluatedProperties`, `properties`, `patternProperties`, `additionalProperties`,
/// `propertyNames`, numeric and string limits (lengths in Unicode code points), `enum`,
/// `const` (with JSON number equality), `required`, `dependentRequired`; in draft 7 also
/// `definitions`, `dependencies`, array-form `items` with `additionalItems`. `format` is an
/// annotation unless ``Options/formatAssertion`` is on.
///
/// The validator is hand-written: no mirrored Swift package provides one.
public struct JSONSchema: Sendable {
    /// The dialect a schema is read in when it does not say (`$schema`).
    public enum Draft: String, Sendable, Hashable {
        case draft2020_12 = "https://json-schema.org/draft/2020-12/schema"
        case draft7 = "http://json-schema.org/draft-07/schema"
    }

    /// How a schema is compiled and applied.
    public struct Options: Sendable {
        /// The dialect of schemas that do not name one.
        public var draft: Draft
        /// Check `format` (when off, it is only an annotation).
        public var formatAssertion: Bool
        /// Loads documents referenced by absolute URI (without fragment) that are not part of
        /// the schema; `nil` refuses remote references.
        public var resolver: (@Sendable (String) -> JSONValue?)?
        /// The URI of the schema document itself, for resolving its relative references.
        public var baseURI: String

        public init(
            draft: Draft = .draft2020_12,
            formatAssertion: Bool = false,
            resolver: (@Sendable (String) -> JSONValue?)? = nil,
            baseURI: String = "urn:harness:schema"
        ) {
            self.draft = draft
            self.formatAssertion = formatAssertion
            self.resolver = resolver
            self.baseURI = baseURI
        }
    }

    let program: SchemaProgram

    /// The schema as given.
    public let schema: JSONValue

    /// Compiles `schema`.
    /// - Throws: ``SchemaError`` naming the location of a problem: a reference that cannot
    ///   be resolved, a pattern that is not a regular expression, a keyword of the wrong type.
    public init(_ schema: JSONValue, options: Options = Options()) throws {
        self.schema = schema
        self.program = try SchemaCompiler.compile(schema, options: options)
    }

    /// Validates `instance`, collecting every error.
    public func validate(_ instance: JSONValue) -> ValidationResult {
        var evaluator = SchemaEvaluator(program: program, collectErrors: true)
        _ = evaluator.evaluate(program.root, instance, track: false)
        return ValidationResult(errors: evaluator.errors)
    }

    /// Whether `instance` is valid (faster than ``validate(_:)``: stops at the first error).
    public func isValid(_ instance: JSONValue) -> Bool {
        var evaluator = SchemaEvaluator(program: program, collectErrors: false)
        return evaluator.evaluate(program.root, instance, track: false) != nil
    }
}

/// The outcome of a validation.
public struct ValidationResult: Sendable, Hashable {
    /// Every error found; empty when valid.
    public var errors: [ValidationError]

    public var isValid: Bool { errors.isEmpty }

    /// The errors as lines a model can act on.
    public var report: String {
        errors.map { "- \($0.description)" }.joined(separator: "\n")
    }
}

/// One reason an instance does not match a schema.
public struct ValidationError: Sendable, Hashable, CustomStringConvertible {
    /// Where in the instance, as a JSON Pointer (`""` is the whole instance).
    public var instancePath: String
    /// Where in the schema, as a JSON Pointer through the keywords applied (`$ref` included).
    public var schemaPath: String
    /// The keyword that failed.
    public var keyword: String
    /// What is wrong, in words.
    public var message: String

    public var description: String {
        "\(instancePath.isEmpty ? "(root)" : instancePath): \(message) [\(schemaPath.isEmpty ? "#" : schemaPath)]"
    }
}

/// A schema that cannot be compiled.
public struct SchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where in the schema (JSON Pointer) the problem is.
    public var schemaPath: String
    public var message: String

    public var description: String { "invalid schema at \(schemaPath.isEmpty ? "#" : schemaPath): \(message)" }
}
