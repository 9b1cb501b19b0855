//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessMacrosPlugin
import SwiftDiagnostics
import SwiftSyntax
import SwiftSyntaxMacroExpansion
import SwiftSyntaxMacrosGenericTestSupport
import SwiftSyntaxMacrosTestSupport
import XCTest

/// `@Schema` as the compiler sees it: asked to add `StructuredOutput` (which it only does
/// when the type does not already state that conformance).
private let schemaMacro: [String: MacroSpec] = [
    "Schema": MacroSpec(
        type: SchemaMacro.self,
        conformances: [TypeSyntax(IdentifierTypeSyntax(name: .identifier("StructuredOutput")))]
    )
]

final class SchemaMacroTests: XCTestCase {
    // MARK: Structs

    func testStructWithOptionalsArraysNestedTypesAndDocComments() {
        assertMacroExpansion(
            #"""
            /// Current weather in a city.
            @Schema
            public struct Weather: Codable {
                /// The city, as the user wrote it.
                var city: String
                /**
                 * Temperature in degrees Celsius.
                 *
                 * Never below -273.15.
                 */
                var temperature: Double
                /// What the sky looks like.
                var conditions: Conditions
                var forecast: [Conditions]
                var alerts: Array<String>?
                var tags: Set<String>
                var readings: [String: Int]
                var stations: [Station?]
                var observedAt: Date
                var source: URL
                var id: UUID
                var humidity: Int? = nil
                var days = 3
                let kind = "weather"
                static var shared: Int = 0
                var summary: String { city }
                var celsius: Double { get { temperature } set { temperature = newValue } }
                var observed: Bool { didSet {} }
                // An ordinary comment.
                var note: Optional<String>
                /// Detached by the blank line.

                var `default`: Int8
            }
            """#,
            expandedSource: #"""
                /// Current weather in a city.
                public struct Weather: Codable {
                    /// The city, as the user wrote it.
                    var city: String
                    /**
                     * Temperature in degrees Celsius.
                     *
                     * Never below -273.15.
                     */
                    var temperature: Double
                    /// What the sky looks like.
                    var conditions: Conditions
                    var forecast: [Conditions]
                    var alerts: Array<String>?
                    var tags: Set<String>
                    var readings: [String: Int]
                    var stations: [Station?]
                    var observedAt: Date
                    var source: URL
                    var id: UUID
                    var humidity: Int? = nil
                    var days = 3
                    let kind = "weather"
                    static var shared: Int = 0
                    var summary: String { city }
                    var celsius: Double { get { temperature } set { temperature = newValue } }
                    var observed: Bool { didSet {} }
                    // An ordinary comment.
                    var note: Optional<String>
                    /// Detached by the blank line.

                    var `default`: Int8
                }

                extension Weather: StructuredOutput {
                    public static var jsonSchema: HarnessCore.JSONValue {
                        .object([
                            "type": .string("object"),
                            "description": .string("Current weather in a city."),
                            "properties": .object([
                                "city": .object([
                                    "type": .string("string"),
                                    "description": .string("The city, as the user wrote it.")
                                ]),
                                "temperature": .object([
                                    "type": .string("number"),
                                    "description": .string("Temperature in degrees Celsius.\nNever below -273.15.")
                                ]),
                                "conditions": HarnessMacros._SchemaMacroSupport.schema(
                                    Conditions.jsonSchema,
                                    describedAs: "What the sky looks like."
                                ),
                                "forecast": .object(["type": .string("array"), "items": Conditions.jsonSchema]),
                                "alerts": .object([
                                    "type": .string("array"),
                                    "items": .object(["type": .string("string")])
                                ]),
                                "tags": .object([
                                    "type": .string("array"),
                                    "items": .object(["type": .string("string")]),
                                    "uniqueItems": .bool(true)
                                ]),
                                "readings": .object([
                                    "type": .string("object"),
                                    "additionalProperties": .object(["type": .string("integer")])
                                ]),
                                "stations": .object([
                                    "type": .string("array"),
                                    "items": .object([
                                        "anyOf": .array([
                                            Station.jsonSchema,
                                            .object(["type": .string("null")])
                                        ])
                                    ])
                                ]),
                                "observedAt": .object(["type": .string("string"), "format": .string("date-time")]),
                                "source": .object(["type": .string("string"), "format": .string("uri")]),
                                "id": .object(["type": .string("string"), "format": .string("uuid")]),
                                "humidity": .object(["type": .string("integer")]),
                                "days": .object(["type": .string("integer")]),
                                "observed": .object(["type": .string("boolean")]),
                                "note": .object(["type": .string("string")]),
                                "default": .object(["type": .string("integer")])
                            ]),
                            "required": .array([
                                .string("city"),
                                .string("temperature"),
                                .string("conditions"),
                                .string("forecast"),
                                .string("tags"),
                                .string("readings"),
                                .string("stations"),
                                .string("observedAt"),
                                .string("source"),
                                .string("id"),
                                .string("days"),
                                .string("observed"),
                                .string("default")
                            ]),
                            "additionalProperties": .bool(false)
                        ])
                    }
                }
                """#,
            macroSpecs: schemaMacro
        )
    }

    func testCodingKeysNameAndSelectProperties() {
        assertMacroExpansion(
            """
            @Schema
            struct Reading: Codable {
                /// Where it was read.
                var stationName: String
                var value: Double
                var cached: Bool?
                enum CodingKeys: String, CodingKey {
                    case stationName = "station_name"
                    case value
                }
            }
            """,
            expandedSource: """
                struct Reading: Codable {
                    /// Where it was read.
                    var stationName: String
                    var value: Double
                    var cached: Bool?
                    enum CodingKeys: String, CodingKey {
                        case stationName = "station_name"
                        case value
                    }
                }

                extension Reading: StructuredOutput {
                    static var jsonSchema: HarnessCore.JSONValue {
                        .object([
                            "type": .string("object"),
                            "properties": .object([
                                "station_name": .object(["type": .string("string"), "description": .string("Where it was read.")]),
                                "value": .object(["type": .string("number")])
                            ]),
                            "required": .array([.string("station_name"), .string("value")]),
                            "additionalProperties": .bool(false)
                        ])
                    }
                }
                """,
            macroSpecs: schemaMacro
        )
    }

    func testInitialValuesFollowTheDecoder() {
        // Synthesized `init(from:)` requires the key of a `var` with a default value; a
        // hand-written one may fall back to the default, so such properties become optional.
        // Types of literal initial values are inferred as Swift infers them.
        assertMacroExpansion(
            """
            @Schema
            struct Tally: Decodable {
                var name = "tally"
                var count: Int = 0
                var ratio = -0.5
                var first, second: Int
                init(from decoder: any Decoder) throws { fatalError() }
            }
            """,
            expandedSource: """
                struct Tally: Decodable {
                    var name = "tally"
                    var count: Int = 0
                    var ratio = -0.5
                    var first, second: Int
                    init(from decoder: any Decoder) throws { fatalError() }
                }

                extension Tally: StructuredOutput {
                    static var jsonSchema: HarnessCore.JSONValue {
                        .object([
                            "type": .string("object"),
                            "properties": .object([
                                "name": .object(["type": .string("string")]),
                                "count": .object(["type": .string("integer")]),
                                "ratio": .object(["type": .string("number")]),
                                "first": .object(["type": .string("integer")]),
                                "second": .object(["type": .string("integer")])
                            ]),
                            "required": .array([.string("first"), .string("second")]),
                            "additionalProperties": .bool(false)
                        ])
                    }
                }
                """,
            macroSpecs: schemaMacro
        )
    }

    func testGenericParametersAreConstrained() {
        assertMacroExpansion(
            """
            @Schema
            struct Page<Item: Codable & Sendable, Tag>: Codable {
                var items: [Item]
                var next: String?
            }
            """,
            expandedSource: """
                struct Page<Item: Codable & Sendable, Tag>: Codable {
                    var items: [Item]
                    var next: String?
                }

                extension Page: StructuredOutput where Item: HarnessCore.StructuredOutput {
                    static var jsonSchema: HarnessCore.JSONValue {
                        .object([
                            "type": .string("object"),
                            "properties": .object([
                                "items": .object(["type": .string("array"), "items": Item.jsonSchema]),
                                "next": .object(["type": .string("string")])
                            ]),
                            "required": .array([.string("items")]),
                            "additionalProperties": .bool(false)
                        ])
                    }
                }
                """,
            macroSpecs: schemaMacro
        )
    }

    func testStatedConformanceGetsOnlyTheSchema() {
        // The compiler asks for no conformance when the type already states it.
        assertMacroExpansion(
            """
            @Schema
            final class Empty: StructuredOutput {}
            """,
            expandedSource: """
                final class Empty: StructuredOutput {}

                extension Empty {
                    static var jsonSchema: HarnessCore.JSONValue {
                        .object([
                            "type": .string("object"),
                            "properties": .object([:]),
                            "required": .array([]),
                            "additionalProperties": .bool(false)
                        ])
                    }
                }
                """,
            macros: ["Schema": SchemaMacro.self]
        )
    }

    // MARK: Enums

    func testStringEnum() {
        assertMacroExpansion(
            #"""
            /// The sky, in one word.
            @Schema
            package enum Conditions: String, Codable {
                case sunny, cloudy
                case `default`
                case rain = "rainy \"wet\""
            }
            """#,
            expandedSource: #"""
                /// The sky, in one word.
                package enum Conditions: String, Codable {
                    case sunny, cloudy
                    case `default`
                    case rain = "rainy \"wet\""
                }

                extension Conditions: StructuredOutput {
                    package static var jsonSchema: HarnessCore.JSONValue {
                        .object([
                            "type": .string("string"),
                            "description": .string("The sky, in one word."),
                            "enum": .array([
                                .string("sunny"),
                                .string("cloudy"),
                                .string("default"),
                                .string("rainy \"wet\"")
                            ])
                        ])
                    }
                }
                """#,
            macroSpecs: schemaMacro
        )
    }

    func testIntEnumCountsImplicitRawValues() {
        assertMacroExpansion(
            """
            @Schema
            enum Priority: Int, Codable {
                case low, medium = 5, high
                case urgent = -1
            }
            """,
            expandedSource: """
                enum Priority: Int, Codable {
                    case low, medium = 5, high
                    case urgent = -1
                }

                extension Priority: StructuredOutput {
                    static var jsonSchema: HarnessCore.JSONValue {
                        .object([
                            "type": .string("integer"),
                            "enum": .array([.integer(0), .integer(5), .integer(6), .integer(-1)])
                        ])
                    }
                }
                """,
            macroSpecs: schemaMacro
        )
    }

    func testEnumWithoutRawTypeWarnsAboutSynthesizedCodable() {
        assertMacroExpansion(
            """
            @Schema
            enum Mood: Codable {
                case happy, sad
            }
            """,
            expandedSource: """
                enum Mood: Codable {
                    case happy, sad
                }

                extension Mood: StructuredOutput {
                    static var jsonSchema: HarnessCore.JSONValue {
                        .object([
                            "type": .string("string"),
                            "enum": .array([.string("happy"), .string("sad")])
                        ])
                    }
                }
                """,
            diagnostics: [
                DiagnosticSpec(
                    message: "@Schema describes 'Mood' as a string of its case names, but synthesized Codable "
                        + #"writes a case as an object ({"case": {}}); declare a String raw type or write init(from:)"#,
                    line: 2,
                    column: 6,
                    severity: .warning
                )
            ],
            macroSpecs: schemaMacro
        )
    }

    // MARK: Diagnostics

    func testEnumWithAssociatedValuesIsAnError() {
        assertMacroExpansion(
            """
            @Schema
            enum Shape {
                case square
                case circle(radius: Double)
            }
            """,
            expandedSource: """
                enum Shape {
                    case square
                    case circle(radius: Double)
                }
                """,
            diagnostics: [
                DiagnosticSpec(message: "@Schema supports enums without associated values", line: 4, column: 10)
            ],
            macroSpecs: schemaMacro
        )
    }

    func testProtocolIsAnError() {
        assertMacroExpansion(
            """
            @Schema
            protocol Named {}
            """,
            expandedSource: """
                protocol Named {}
                """,
            diagnostics: [
                DiagnosticSpec(
                    message: "@Schema cannot be applied to a protocol; apply it to a struct, a class or an enum",
                    line: 1,
                    column: 1
                )
            ],
            macroSpecs: schemaMacro
        )
    }

    func testActorIsAnError() {
        assertMacroExpansion(
            """
            @Schema
            actor Counter {}
            """,
            expandedSource: """
                actor Counter {}
                """,
            diagnostics: [
                DiagnosticSpec(
                    message: "@Schema cannot be applied to an actor; apply it to a struct, a class or an enum",
                    line: 1,
                    column: 1
                )
            ],
            macroSpecs: schemaMacro
        )
    }

    func testRecursiveTypeIsAnError() {
        assertMacroExpansion(
            """
            @Schema
            struct Node: Codable {
                var children: [Node]
            }
            """,
            expandedSource: """
                struct Node: Codable {
                    var children: [Node]
                }
                """,
            diagnostics: [
                DiagnosticSpec(message: "@Schema cannot describe a type that contains itself ('Node')", line: 3, column: 20)
            ],
            macroSpecs: schemaMacro
        )
    }

    func testUndescribablePropertiesAreErrors() {
        assertMacroExpansion(
            """
            @Schema
            struct Odd {
                var label
                var pair: (Int, Int)
                var handler: () -> Void
            }
            """,
            expandedSource: """
                struct Odd {
                    var label
                    var pair: (Int, Int)
                    var handler: () -> Void
                }
                """,
            diagnostics: [
                DiagnosticSpec(message: "@Schema needs an explicit type annotation on property 'label'", line: 3, column: 9),
                DiagnosticSpec(message: "@Schema cannot describe type '(Int, Int)'", line: 4, column: 15),
                DiagnosticSpec(message: "@Schema cannot describe type '() -> Void'", line: 5, column: 18),
            ],
            macroSpecs: schemaMacro
        )
    }
}
