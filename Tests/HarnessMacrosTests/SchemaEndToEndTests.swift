//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Harness
public import HarnessMacros  // public: `PublicPoint` conforms publicly
import Testing

// Types described by the real macro, compiled in this module like a user's.

/// Current weather in a city.
@Schema
struct Weather: Codable, Equatable {
    /// The sky, in one word.
    @Schema
    enum Conditions: String, Codable {
        case sunny, cloudy
        case rain = "rainy"
    }

    /// The city, as the user wrote it.
    var city: String
    /// Temperature in degrees Celsius.
    var temperature: Double
    var conditions: Conditions
    /// Hourly outlook, first hour first.
    var outlook: [Conditions]
    var alerts: [String]
    var advisory: String?
    var station: Station
    var reportedAt: Date
    var summary: String { "\(city): \(conditions.rawValue)" }
}

@Schema
struct Station: Codable, Equatable {
    var name: String
    var elevation: Int

    enum CodingKeys: String, CodingKey {
        case name = "station_name"
        case elevation
    }
}

/// `Decodable` comes with the `StructuredOutput` conformance the macro adds.
@Schema
struct Unannounced {
    var x: Int
}

@Schema
final class Box {
    let label: String
    let count: Int?
}

@Schema
public struct PublicPoint: Codable {
    public var x: Double
}

@Schema
struct Page<Item: Codable & Sendable>: Codable, Sendable {
    var items: [Item]
}

@Schema
struct Pair<Item: StructuredOutput>: Decodable {
    var first: Item
    var second: Item?
}

@Schema
enum Level: Int, Codable {
    case low = 1, medium, high
}

@Suite struct SchemaEndToEndTests {
    static let conditions: JSONValue = [
        "type": "string",
        "description": "The sky, in one word.",
        "enum": ["sunny", "cloudy", "rainy"],
    ]

    static let station: JSONValue = [
        "type": "object",
        "properties": ["station_name": ["type": "string"], "elevation": ["type": "integer"]],
        "required": ["station_name", "elevation"],
        "additionalProperties": false,
    ]

    static var weatherProperties: JSONValue {
        [
            "city": ["type": "string", "description": "The city, as the user wrote it."],
            "temperature": ["type": "number", "description": "Temperature in degrees Celsius."],
            "conditions": conditions,
            "outlook": ["type": "array", "items": conditions, "description": "Hourly outlook, first hour first."],
            "alerts": ["type": "array", "items": ["type": "string"]],
            "advisory": ["type": "string"],
            "station": station,
            "reportedAt": ["type": "string", "format": "date-time"],
        ]
    }

    static let sample = Weather(
        city: "Paris",
        temperature: 21.5,
        conditions: .rain,
        outlook: [.cloudy, .sunny],
        alerts: ["wind"],
        advisory: "Take an umbrella.",
        station: Station(name: "Montsouris", elevation: 75),
        reportedAt: Date(timeIntervalSince1970: 1_700_000_000)
    )

    /// `sample` as JSON, the way a model would be asked to write it.
    static func sampleJSON(_ weather: Weather = sample) throws -> JSONValue {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return try JSONValue(parsingBytes: encoder.encode(weather))
    }

    /// `json` with `key` set to `value` (or removed, for `nil`).
    static func setting(_ key: String, to value: JSONValue?, in json: JSONValue) -> JSONValue {
        var members = json.objectValue ?? [:]
        members[key] = value
        return .object(members)
    }

    @Test func weatherSchemaIsTheExpectedJSON() {
        let expected: JSONValue = [
            "type": "object",
            "description": "Current weather in a city.",
            "properties": Self.weatherProperties,
            "required": ["city", "temperature", "conditions", "outlook", "alerts", "station", "reportedAt"],
            "additionalProperties": false,
        ]
        #expect(Weather.jsonSchema == expected)
        #expect(Weather.Conditions.jsonSchema == Self.conditions)
        #expect(Station.jsonSchema == Self.station)
    }

    @Test func harnessValidatorAcceptsWhatTheEncoderWrites() throws {
        let schema = try JSONSchema(Weather.jsonSchema)
        let json = try Self.sampleJSON()
        let result = schema.validate(json)
        #expect(result.isValid, "\(result.report)")

        // The optional field may be left out.
        var calm = Self.sample
        calm.advisory = nil
        let calmJSON = try Self.sampleJSON(calm)
        #expect(calmJSON["advisory"] == nil)
        #expect(schema.validate(calmJSON).isValid)

        // And what the schema accepts decodes.
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let data = Data(json.canonicalString.utf8)
        #expect(try decoder.decode(Weather.self, from: data) == Self.sample)
    }

    @Test func harnessValidatorRejectsAMissingRequiredField() throws {
        let schema = try JSONSchema(Weather.jsonSchema)
        let json = try Self.sampleJSON()

        let noCity = schema.validate(Self.setting("city", to: nil, in: json))
        #expect(!noCity.isValid)
        #expect(noCity.errors.contains { $0.keyword == "required" })

        // Inside a nested schema too, under its coding key.
        let station = Self.setting("station_name", to: nil, in: json["station"]!)
        let noStationName = schema.validate(Self.setting("station", to: station, in: json))
        #expect(!noStationName.isValid)
        #expect(noStationName.errors.contains { $0.keyword == "required" && $0.instancePath == "/station" })
    }

    @Test func harnessValidatorRejectsAWrongEnumValue() throws {
        let schema = try JSONSchema(Weather.jsonSchema)
        let json = try Self.sampleJSON()

        let snowy = schema.validate(Self.setting("conditions", to: "snowy", in: json))
        #expect(!snowy.isValid)
        #expect(snowy.errors.contains { $0.keyword == "enum" && $0.instancePath == "/conditions" })

        // The raw value counts, not the case name.
        #expect(!schema.isValid(Self.setting("conditions", to: "rain", in: json)))
        #expect(!schema.isValid(Self.setting("outlook", to: ["sunny", "hail"], in: json)))
    }

    @Test func harnessValidatorRejectsWrongTypesAndExtraProperties() throws {
        let schema = try JSONSchema(Weather.jsonSchema)
        let json = try Self.sampleJSON()
        #expect(!schema.isValid(Self.setting("temperature", to: "warm", in: json)))
        #expect(!schema.isValid(Self.setting("alerts", to: [1], in: json)))
        #expect(!schema.isValid(Self.setting("humidity", to: 80, in: json)))
    }

    @Test func typesThatDoNotStateDecodable() throws {
        #expect(
            Unannounced.jsonSchema == [
                "type": "object", "description": "`Decodable` comes with the `StructuredOutput` conformance the macro adds.",
                "properties": ["x": ["type": "integer"]], "required": ["x"], "additionalProperties": false,
            ]
        )
        #expect(try JSONDecoder().decode(Unannounced.self, from: Data(#"{"x": 3}"#.utf8)).x == 3)

        // A final class: `let`s are decoded; an optional one may be absent.
        #expect(
            Box.jsonSchema == [
                "type": "object",
                "properties": ["label": ["type": "string"], "count": ["type": "integer"]],
                "required": ["label"], "additionalProperties": false,
            ]
        )
        let box = try JSONDecoder().decode(Box.self, from: Data(#"{"label": "b"}"#.utf8))
        #expect(box.label == "b" && box.count == nil)
    }

    @Test func genericAndPublicTypes() throws {
        #expect(PublicPoint.jsonSchema["properties"] == ["x": ["type": "number"]])
        #expect(Page<Station>.jsonSchema["properties"] == ["items": ["type": "array", "items": Self.station]])
        #expect(Pair<Level>.jsonSchema["properties"] == ["first": Level.jsonSchema, "second": Level.jsonSchema])
        #expect(Pair<Level>.jsonSchema["required"] == ["first"])

        #expect(Level.jsonSchema == ["type": "integer", "enum": [1, 2, 3]])
        let level = try JSONSchema(Level.jsonSchema)
        #expect(level.isValid(2))
        #expect(!level.isValid(4))
        #expect(!level.isValid("low"))
    }

    @Test func everySchemaCompiles() throws {
        for schema in [
            Weather.jsonSchema, Station.jsonSchema, Unannounced.jsonSchema, Box.jsonSchema, PublicPoint.jsonSchema,
            Page<Weather>.jsonSchema, Pair<Weather.Conditions>.jsonSchema, Level.jsonSchema,
        ] {
            _ = try JSONSchema(schema)
        }
    }
}
