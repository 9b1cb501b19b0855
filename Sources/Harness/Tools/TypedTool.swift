//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import HarnessCore
import Foundation

/// A ``Tool`` with typed arguments and output: the input schema is `Arguments.jsonSchema`
/// (write it with `@Schema`), arguments are validated against it and decoded before `body`
/// runs, and the output is encoded as JSON for the model (a `String` output is sent as is).
///
/// ```swift
/// @Schema struct WeatherQuery: Codable { var city: String; var days: Int? }
/// @Schema struct Forecast: Codable { var city: String; var highs: [Double] }
///
/// let forecast = TypedTool(name: "forecast", description: "Daily highs.") { (q: WeatherQuery, _) in
///     Forecast(city: q.city, highs: [18, 19, 17])
/// }
/// ```
public struct TypedTool<Arguments: StructuredOutput, Output: Encodable & Sendable>: Tool {
    public let name: String
    public let description: String
    public let isReadOnly: Bool
    public let timeout: Duration?
    let body: @Sendable (Arguments, ToolContext) async throws -> Output

    public init(
        name: String,
        description: String,
        isReadOnly: Bool = false,
        timeout: Duration? = nil,
        body: @escaping @Sendable (_ arguments: Arguments, _ context: ToolContext) async throws -> Output
    ) {
        self.name = name
        self.description = description
        self.isReadOnly = isReadOnly
        self.timeout = timeout
        self.body = body
    }

    public var inputSchema: JSONValue { Arguments.jsonSchema }

    public func invoke(arguments: JSONValue, context: ToolContext) async throws -> ToolOutput {
        let decoded: Arguments
        do {
            decoded = try JSONDecoder().decode(Arguments.self, from: Data(arguments.canonicalBytes))
        } catch {
            return ToolOutput("Error: the arguments could not be read as \(Arguments.self): \(error)", isError: true)
        }
        let output = try await body(decoded, context)
        if let text = output as? String { return ToolOutput(text) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ToolOutput(String(decoding: try encoder.encode(output), as: UTF8.self))
    }
}
