//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A type whose values a model can be asked to produce, described by a JSON Schema.
///
/// Conform by hand, or let the `@Schema` macro (module `HarnessMacros`) write
/// ``jsonSchema`` from the type's stored properties and doc comments:
///
/// ```swift
/// import HarnessMacros
///
/// @Schema
/// struct Weather: Codable {
///     /// The city, as the user wrote it.
///     var city: String
///     /// Temperature in degrees Celsius.
///     var temperature: Double
///     var conditions: Conditions
///     var advisory: String?        // optional: not required
/// }
///
/// @Schema
/// enum Conditions: String, Codable { case sunny, cloudy, rain }
/// ```
public protocol StructuredOutput: Decodable, Sendable {
    /// The JSON Schema of this type's JSON form.
    static var jsonSchema: JSONValue { get }
}

extension String: StructuredOutput {
    public static var jsonSchema: JSONValue { ["type": "string"] }
}

extension Int: StructuredOutput {
    public static var jsonSchema: JSONValue { ["type": "integer"] }
}

extension Double: StructuredOutput {
    public static var jsonSchema: JSONValue { ["type": "number"] }
}

extension Bool: StructuredOutput {
    public static var jsonSchema: JSONValue { ["type": "boolean"] }
}

extension Array: StructuredOutput where Element: StructuredOutput {
    public static var jsonSchema: JSONValue { ["type": "array", "items": Element.jsonSchema] }
}

extension Optional: StructuredOutput where Wrapped: StructuredOutput {
    public static var jsonSchema: JSONValue { ["anyOf": [Wrapped.jsonSchema, ["type": "null"]]] }
}

extension Dictionary: StructuredOutput where Key == String, Value: StructuredOutput {
    public static var jsonSchema: JSONValue { ["type": "object", "additionalProperties": Value.jsonSchema] }
}
