//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

@_exported public import HarnessCore

/// Makes a type ``HarnessCore/StructuredOutput`` by writing its ``HarnessCore/StructuredOutput/jsonSchema``
/// from its declaration.
///
/// ```swift
/// import HarnessMacros
///
/// /// Current weather in a city.
/// @Schema
/// struct Weather: Codable {
///     /// The city, as the user wrote it.
///     var city: String
///     /// Temperature in degrees Celsius.
///     var temperature: Double
///     var conditions: Conditions
///     var alerts: [String]
///     var advisory: String?        // optional: not required
/// }
///
/// /// The sky, in one word.
/// @Schema
/// enum Conditions: String, Codable { case sunny, cloudy, rain }
///
/// Weather.jsonSchema
/// // {"type": "object",
/// //  "description": "Current weather in a city.",
/// //  "properties": {
/// //    "city": {"type": "string", "description": "The city, as the user wrote it."},
/// //    "temperature": {"type": "number", "description": "Temperature in degrees Celsius."},
/// //    "conditions": {"type": "string", "description": "The sky, in one word.", "enum": ["sunny", "cloudy", "rain"]},
/// //    "alerts": {"type": "array", "items": {"type": "string"}},
/// //    "advisory": {"type": "string"}},
/// //  "required": ["city", "temperature", "conditions", "alerts"],
/// //  "additionalProperties": false}
/// ```
///
/// On a **struct or class**, the schema is an object with one property per stored
/// property that `Decodable` decodes: `static` and computed properties are left out, and
/// so are `let` properties with an initial value. Property names follow the type's
/// `CodingKeys` when it declares them (`case temperature = "temp_c"`). A property is
/// required unless its type is optional (`T?`, `Optional<T>`); a `var` with a default
/// value is required too (synthesized `Decodable` requires its key) unless the type writes
/// its own `init(from:)`. Extra properties are refused (`"additionalProperties": false`).
///
/// Property types map to schemas: `String`, `Int`…`UInt64`, `Double`, `Float`, `Decimal`,
/// `CGFloat` and `Bool` to their JSON types; `Date` to a `date-time` string (decode it with
/// `JSONDecoder.DateDecodingStrategy.iso8601`); `URL` to a `uri` string; `UUID` to a `uuid`
/// string; `Data` to a base64 string; `[T]`, `Array<T>` and `Set<T>` to arrays;
/// `[String: T]` to an object; `T?` to the schema of `T`; any other type to its own
/// `jsonSchema`, so it must itself be `StructuredOutput` (for example through `@Schema`).
///
/// On an **enum** without associated values, the schema is a string (or, for an integer
/// raw type, an integer) limited to the cases' raw values. A doc comment (`///` or
/// `/** */`) directly above the type or a property becomes its `"description"`.
///
/// The macro reads only the declaration it is attached to: a generic parameter used in a
/// property makes the conformance conditional (`where T: StructuredOutput`), a type that
/// contains itself is refused, and a `public` type needs `public import HarnessMacros`
/// under `InternalImportsByDefault`, since its conformance is public.
@attached(extension, conformances: StructuredOutput, names: named(jsonSchema))
public macro Schema() = #externalMacro(module: "HarnessMacrosPlugin", type: "SchemaMacro")

/// Support for code that `@Schema` writes; not for direct use.
public enum _SchemaMacroSupport {
    /// `schema` with its `"description"` set to `description` (a property's doc comment
    /// takes precedence over the doc comment of the property's type).
    public static func schema(_ schema: JSONValue, describedAs description: String) -> JSONValue {
        guard case .object(var members) = schema else { return schema }
        members["description"] = .string(description)
        return .object(members)
    }
}
