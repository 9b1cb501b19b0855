//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import SwiftDiagnostics
import SwiftSyntax

// MARK: - Diagnostics

/// A message `@Schema` reports about the declaration it is attached to.
struct SchemaDiagnostic: DiagnosticMessage {
    let message: String
    let id: String
    let severity: DiagnosticSeverity

    var diagnosticID: MessageID { MessageID(domain: "HarnessMacros.Schema", id: id) }

    static func error(_ id: String, _ message: String) -> SchemaDiagnostic {
        SchemaDiagnostic(message: message, id: id, severity: .error)
    }

    static func warning(_ id: String, _ message: String) -> SchemaDiagnostic {
        SchemaDiagnostic(message: message, id: id, severity: .warning)
    }
}

// MARK: - Schema expressions

/// A JSON Schema as the Swift expression that builds it: literals known at expansion time,
/// and references to other types' `jsonSchema` that are only known when the code runs.
indirect enum SchemaExpression {
    case string(String)
    case bool(Bool)
    /// An integer, as its Swift literal.
    case integer(String)
    /// A floating-point number, as its Swift literal.
    case number(String)
    case array([SchemaExpression])
    /// Members in the order they are written.
    case object([(String, SchemaExpression)])
    /// A Swift expression of type `JSONValue`, such as `Weather.jsonSchema`.
    case code(String)
    /// A schema only known at run time, with `"description"` set when the code runs.
    case described(SchemaExpression, String)

    /// `self` with `"description"` set (right after `"type"` in an object literal).
    func described(_ description: String?) -> SchemaExpression {
        guard let description else { return self }
        switch self {
        case .object(var members):
            members.removeAll { $0.0 == "description" }
            let index = members.first?.0 == "type" ? 1 : 0
            members.insert(("description", .string(description)), at: index)
            return .object(members)
        case .described(let schema, _):
            return .described(schema, description)
        default:
            return .described(self, description)
        }
    }

    /// Whether this is written on one line wherever it appears.
    private var isLeaf: Bool {
        switch self {
        case .array, .object, .described: return false
        default: return true
        }
    }

    /// The Swift expression, continuation lines indented by `indent` levels of four spaces.
    func render(indent: Int) -> String {
        switch self {
        case .string(let s): return ".string(\(swiftStringLiteral(s)))"
        case .bool(let b): return ".bool(\(b))"
        case .integer(let literal): return ".integer(\(literal))"
        case .number(let literal): return ".number(\(literal))"
        case .code(let code): return code
        case .described(let schema, let description):
            let function = "HarnessMacros._SchemaMacroSupport.schema"
            let text = swiftStringLiteral(description)
            let inline = "\(function)(\(schema.render(indent: indent)), describedAs: \(text))"
            if !inline.contains("\n"), inline.count + indent * 4 <= 100 { return inline }
            let pad = String(repeating: "    ", count: indent + 1)
            return "\(function)(\n\(pad)\(schema.render(indent: indent + 1)),\n\(pad)describedAs: \(text)\n"
                + "\(String(repeating: "    ", count: indent)))"
        case .array(let elements):
            if elements.isEmpty { return ".array([])" }
            let inline = ".array([\(elements.map { $0.render(indent: 0) }.joined(separator: ", "))])"
            if elements.allSatisfy(\.isLeaf), inline.count + indent * 4 <= 100 { return inline }
            let pad = String(repeating: "    ", count: indent + 1)
            let lines = elements.map { pad + $0.render(indent: indent + 1) }
            return ".array([\n\(lines.joined(separator: ",\n"))\n\(String(repeating: "    ", count: indent))])"
        case .object(let members):
            if members.isEmpty { return ".object([:])" }
            let inline =
                ".object([\(members.map { "\(swiftStringLiteral($0.0)): \($0.1.render(indent: 0))" }.joined(separator: ", "))])"
            if members.allSatisfy(\.1.isLeaf), inline.count + indent * 4 <= 100 { return inline }
            let pad = String(repeating: "    ", count: indent + 1)
            let lines = members.map { pad + "\(swiftStringLiteral($0.0)): \($0.1.render(indent: indent + 1))" }
            return ".object([\n\(lines.joined(separator: ",\n"))\n\(String(repeating: "    ", count: indent))])"
        }
    }
}

/// `s` as a Swift string literal.
func swiftStringLiteral(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\0": out += "\\0"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

// MARK: - Names

extension TokenSyntax {
    /// The identifier as written, without the backticks of an escaped name (`` `default` ``).
    var unescapedName: String {
        let text = self.text
        if text.count >= 2, text.hasPrefix("`"), text.hasSuffix("`") {
            return String(text.dropFirst().dropLast())
        }
        return text
    }
}

// MARK: - Doc comments

/// The doc comment directly above a declaration: the `///` lines and `/** */` blocks in the
/// leading trivia of its tokens up to and including `last` (its introducing keyword), so
/// that comments above or below attributes count. A blank line or an ordinary comment
/// between a doc comment and the declaration detaches the doc comment.
///
/// Lines are trimmed; the lines of a paragraph are joined with spaces and paragraphs with
/// a line break.
func docComment(of decl: some SyntaxProtocol, through last: TokenSyntax) -> String? {
    var lines: [String] = []
    for token in decl.tokens(viewMode: .sourceAccurate) {
        lines += docLines(in: token.leadingTrivia)
        if token.id == last.id { break }
    }
    var paragraphs: [String] = []
    var current: [String] = []
    for line in lines.map(trimmed) {
        if line.isEmpty {
            if !current.isEmpty { paragraphs.append(current.joined(separator: " ")) }
            current = []
        } else {
            current.append(line)
        }
    }
    if !current.isEmpty { paragraphs.append(current.joined(separator: " ")) }
    let text = paragraphs.joined(separator: "\n")
    return text.isEmpty ? nil : text
}

/// The lines of the run of doc comments that ends `trivia` (ignoring whitespace), if any.
private func docLines(in trivia: Trivia) -> [String] {
    var run: [String] = []
    var newlinesSinceComment = 0
    for piece in trivia {
        switch piece {
        case .docLineComment(let text):
            if newlinesSinceComment >= 2 { run = [] }
            var line = Substring(text.dropFirst(3))
            if line.first == " " { line = line.dropFirst() }
            run.append(String(line))
            newlinesSinceComment = 0
        case .docBlockComment(let text):
            if newlinesSinceComment >= 2 { run = [] }
            run += blockCommentLines(text)
            newlinesSinceComment = 0
        case .lineComment, .blockComment:
            run = []
            newlinesSinceComment = 0
        case .newlines(let n), .carriageReturns(let n), .carriageReturnLineFeeds(let n):
            newlinesSinceComment += n
        default:
            continue
        }
    }
    return newlinesSinceComment >= 2 ? [] : run
}

/// The text lines of a `/** … */` comment, without the delimiters and leading `*`s.
private func blockCommentLines(_ text: String) -> [String] {
    var body = Substring(text)
    if body.hasPrefix("/**") { body = body.dropFirst(3) }
    if body.hasSuffix("*/") { body = body.dropLast(2) }
    return body.split(separator: "\n", omittingEmptySubsequences: false).map { raw in
        var line = raw.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
        if line.first == "*" {
            line = line.dropFirst()
            if line.first == " " { line = line.dropFirst() }
        }
        return String(line)
    }
}

private func trimmed(_ s: String) -> String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
    guard let start = s.firstIndex(where: { !isSpace($0) }) else { return "" }
    let end = s.lastIndex(where: { !isSpace($0) })!
    return String(s[start...end])
}
