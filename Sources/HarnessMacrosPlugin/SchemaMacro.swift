//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import SwiftDiagnostics
import SwiftParser
public import SwiftSyntax
import SwiftSyntaxBuilder
public import SwiftSyntaxMacros

/// `@Schema`: writes `static var jsonSchema` (and the `StructuredOutput` conformance) from a
/// struct's or class's stored properties, or from an enum's cases.
///
/// The macro sees only the declaration it is attached to: other types are referred to by
/// their own `jsonSchema`, and type names are recognised by spelling (`Date`,
/// `Foundation.Date`), not resolved.
public struct SchemaMacro: ExtensionMacro {
    public static func expansion(
        of node: AttributeSyntax,
        attachedTo declaration: some DeclGroupSyntax,
        providingExtensionsOf type: some TypeSyntaxProtocol,
        conformingTo protocols: [TypeSyntax],
        in context: some MacroExpansionContext
    ) throws -> [ExtensionDeclSyntax] {
        var builder = SchemaBuilder(typeName: type.trimmedDescription)
        let schema: SchemaExpression?
        if let decl = declaration.as(StructDeclSyntax.self) {
            builder.genericParameters = decl.genericParameterClause?.parameters.map { $0.name.unescapedName } ?? []
            builder.simpleName = decl.name.unescapedName
            schema = builder.objectSchema(for: decl)
        } else if let decl = declaration.as(ClassDeclSyntax.self) {
            builder.genericParameters = decl.genericParameterClause?.parameters.map { $0.name.unescapedName } ?? []
            builder.simpleName = decl.name.unescapedName
            schema = builder.objectSchema(for: decl)
        } else if let decl = declaration.as(EnumDeclSyntax.self) {
            builder.simpleName = decl.name.unescapedName
            schema = builder.enumSchema(for: decl)
        } else {
            let kind: String
            if declaration.is(ProtocolDeclSyntax.self) {
                kind = "a protocol"
            } else if declaration.is(ActorDeclSyntax.self) {
                kind = "an actor"
            } else if declaration.is(ExtensionDeclSyntax.self) {
                kind = "an extension"
            } else {
                kind = "this declaration"
            }
            builder.diagnostics.append(
                Diagnostic(
                    node: node,
                    message: SchemaDiagnostic.error(
                        "unsupportedDeclaration",
                        "@Schema cannot be applied to \(kind); apply it to a struct, a class or an enum"
                    )
                )
            )
            schema = nil
        }

        for diagnostic in builder.diagnostics { context.diagnose(diagnostic) }
        guard let schema, !builder.diagnostics.contains(where: { $0.diagMessage.severity == .error }) else {
            return []
        }

        let access = accessModifier(of: declaration)
        let conformance =
            protocols.isEmpty ? "" : ": " + protocols.map(\.trimmedDescription).joined(separator: ", ")
        let whereClause =
            builder.constrainedParameters.isEmpty
            ? ""
            : " where "
                + builder.constrainedParameters.map { "\($0): HarnessCore.StructuredOutput" }.joined(separator: ", ")
        let source = """
            extension \(type.trimmedDescription)\(conformance)\(whereClause) {
                \(access)static var jsonSchema: HarnessCore.JSONValue {
                    \(schema.render(indent: 2))
                }
            }
            """
        let decl: DeclSyntax = "\(raw: source)"
        guard let ext = decl.as(ExtensionDeclSyntax.self) else { return [] }
        return [ext]
    }

    /// `public ` for public and open types, `package ` for package ones, else nothing: the
    /// witness must be as visible as the conformance, and no more is useful.
    private static func accessModifier(of declaration: some DeclGroupSyntax) -> String {
        for modifier in declaration.modifiers {
            switch modifier.name.tokenKind {
            case .keyword(.public), .keyword(.open): return "public "
            case .keyword(.package): return "package "
            default: continue
            }
        }
        return ""
    }
}

/// A stored property as `Decodable` sees it.
private struct StoredProperty {
    var name: String
    var type: TypeSyntax
    var isOptional: Bool
    var hasInitialValue: Bool
    var description: String?
}

/// Builds the schema of one declaration, collecting diagnostics on the way.
struct SchemaBuilder {
    /// The extended type as the compiler names it (`Outer.Inner`).
    let typeName: String
    /// The type's own name (`Inner`).
    var simpleName = ""
    var genericParameters: [String] = []
    /// The generic parameters whose `jsonSchema` the schema uses, in declaration order.
    private(set) var constrainedParameters: [String] = []
    var diagnostics: [Diagnostic] = []

    init(typeName: String) {
        self.typeName = typeName
    }

    // MARK: Structs and classes

    mutating func objectSchema(for decl: some DeclGroupSyntax) -> SchemaExpression {
        let members = decl.memberBlock.members
        let codingKeys = self.codingKeys(in: members)
        let decodesItself = Self.declaresDecodingInitializer(members)

        var properties: [(String, SchemaExpression)] = []
        var required: [SchemaExpression] = []
        for property in storedProperties(in: members) {
            let jsonName: String
            if let codingKeys {
                guard let key = codingKeys[property.name] else { continue }
                jsonName = key
            } else {
                jsonName = property.name
            }
            guard let schema = self.schema(for: property.type) else { continue }
            properties.append((jsonName, schema.described(property.description)))
            // Synthesized `init(from:)` decodes a `var` with a default value with `decode`, so
            // its key is required; only a hand-written one can fall back to the default.
            if !property.isOptional && !(property.hasInitialValue && decodesItself) {
                required.append(.string(jsonName))
            }
        }

        var schemaMembers: [(String, SchemaExpression)] = [("type", .string("object"))]
        if let description = docComment(of: decl, through: decl.introducer) {
            schemaMembers.append(("description", .string(description)))
        }
        schemaMembers += [
            ("properties", .object(properties)),
            ("required", .array(required)),
            ("additionalProperties", .bool(false)),
        ]
        return .object(schemaMembers)
    }

    /// Whether the type writes its own `init(from:)` (in its declaration; extensions are
    /// out of sight).
    private static func declaresDecodingInitializer(_ members: MemberBlockItemListSyntax) -> Bool {
        members.contains { member in
            guard let initializer = member.decl.as(InitializerDeclSyntax.self) else { return false }
            let parameters = initializer.signature.parameterClause.parameters
            return parameters.count == 1 && parameters.first?.firstName.text == "from"
        }
    }

    /// The JSON names of `CodingKeys` by case name, if the type declares that enum.
    private mutating func codingKeys(in members: MemberBlockItemListSyntax) -> [String: String]? {
        guard
            let keys = members.lazy.compactMap({ $0.decl.as(EnumDeclSyntax.self) })
                .first(where: { $0.name.unescapedName == "CodingKeys" })
        else { return nil }
        var names: [String: String] = [:]
        for member in keys.memberBlock.members {
            guard let caseDecl = member.decl.as(EnumCaseDeclSyntax.self) else { continue }
            for element in caseDecl.elements {
                let name = element.name.unescapedName
                if let rawValue = element.rawValue {
                    guard let literal = rawValue.value.as(StringLiteralExprSyntax.self)?.representedLiteralValue
                    else {
                        diagnostics.append(
                            Diagnostic(
                                node: rawValue.value,
                                message: SchemaDiagnostic.error(
                                    "codingKeyRawValue",
                                    "@Schema needs the raw value of coding key '\(name)' to be a plain string literal"
                                )
                            )
                        )
                        continue
                    }
                    names[name] = literal
                } else {
                    names[name] = name
                }
            }
        }
        return names
    }

    /// The stored instance properties in declaration order, without those `Decodable`
    /// leaves alone (`let` with an initial value).
    private mutating func storedProperties(in members: MemberBlockItemListSyntax) -> [StoredProperty] {
        var result: [StoredProperty] = []
        for member in members {
            guard let variable = member.decl.as(VariableDeclSyntax.self) else { continue }
            if variable.modifiers.contains(where: {
                $0.name.tokenKind == .keyword(.static) || $0.name.tokenKind == .keyword(.class)
            }) {
                continue
            }
            let isLet = variable.bindingSpecifier.tokenKind == .keyword(.let)
            let description = docComment(of: variable, through: variable.bindingSpecifier)
            let bindings = Array(variable.bindings)
            for (index, binding) in bindings.enumerated() {
                if let accessors = binding.accessorBlock, isComputed(accessors) { continue }
                if isLet && binding.initializer != nil { continue }
                guard let pattern = binding.pattern.as(IdentifierPatternSyntax.self) else {
                    diagnostics.append(
                        Diagnostic(
                            node: binding.pattern,
                            message: SchemaDiagnostic.error(
                                "tuplePattern",
                                "@Schema needs each stored property declared with its own name"
                            )
                        )
                    )
                    continue
                }
                let name = pattern.identifier.unescapedName
                // In `var a, b: Int`, `a` has the type of the next annotated binding.
                var type = binding.typeAnnotation?.type
                if type == nil, binding.initializer == nil {
                    type = bindings[(index + 1)...].lazy.compactMap(\.typeAnnotation?.type).first
                }
                if type == nil, let value = binding.initializer?.value {
                    type = literalType(of: value)
                }
                guard let type else {
                    diagnostics.append(
                        Diagnostic(
                            node: binding,
                            message: SchemaDiagnostic.error(
                                "missingType",
                                "@Schema needs an explicit type annotation on property '\(name)'"
                            )
                        )
                    )
                    continue
                }
                let unwrapped = optionalWrapped(type)
                result.append(
                    StoredProperty(
                        name: name,
                        type: unwrapped ?? type,
                        isOptional: unwrapped != nil,
                        hasInitialValue: binding.initializer != nil,
                        description: description
                    )
                )
            }
        }
        return result
    }

    /// Whether accessors make a property computed (`willSet`/`didSet` observe a stored one).
    private func isComputed(_ accessors: AccessorBlockSyntax) -> Bool {
        switch accessors.accessors {
        case .getter: return true
        case .accessors(let list):
            return list.contains {
                $0.accessorSpecifier.tokenKind != .keyword(.willSet)
                    && $0.accessorSpecifier.tokenKind != .keyword(.didSet)
            }
        }
    }

    /// The type of a literal initial value (`var count = 0`), the way Swift infers it.
    private func literalType(of value: ExprSyntax) -> TypeSyntax? {
        var value = value
        if let prefix = value.as(PrefixOperatorExprSyntax.self), prefix.operator.text == "-" {
            value = prefix.expression
            guard value.is(IntegerLiteralExprSyntax.self) || value.is(FloatLiteralExprSyntax.self) else { return nil }
        }
        let name: String
        if value.is(StringLiteralExprSyntax.self) {
            name = "String"
        } else if value.is(IntegerLiteralExprSyntax.self) {
            name = "Int"
        } else if value.is(FloatLiteralExprSyntax.self) {
            name = "Double"
        } else if value.is(BooleanLiteralExprSyntax.self) {
            name = "Bool"
        } else {
            return nil
        }
        return TypeSyntax(IdentifierTypeSyntax(name: .identifier(name)))
    }

    // MARK: Enums

    mutating func enumSchema(for decl: EnumDeclSyntax) -> SchemaExpression? {
        enum Kind { case string, integer, number }
        var kind = Kind.string
        var hasRawType = false
        if let first = decl.inheritanceClause?.inheritedTypes.first?.type, let name = Self.standardName(of: first) {
            switch name {
            case "String":
                hasRawType = true
            case "Int", "Int8", "Int16", "Int32", "Int64", "Int128",
                "UInt", "UInt8", "UInt16", "UInt32", "UInt64", "UInt128":
                kind = .integer
                hasRawType = true
            case "Double", "Float", "Float16", "Float80", "CGFloat":
                kind = .number
                hasRawType = true
            case "Character", "Substring", "StaticString":
                diagnostics.append(
                    Diagnostic(
                        node: first,
                        message: SchemaDiagnostic.error(
                            "unsupportedRawType",
                            "@Schema supports enums with String or numeric raw values, not \(name)"
                        )
                    )
                )
                return nil
            default:
                break
            }
        }

        var values: [SchemaExpression] = []
        var previous: Int? = -1  // the last integral raw value, for implicit ones
        for member in decl.memberBlock.members {
            guard let caseDecl = member.decl.as(EnumCaseDeclSyntax.self) else { continue }
            for element in caseDecl.elements {
                if element.parameterClause != nil {
                    diagnostics.append(
                        Diagnostic(
                            node: element,
                            message: SchemaDiagnostic.error(
                                "associatedValues",
                                "@Schema supports enums without associated values"
                            )
                        )
                    )
                    return nil
                }
                let name = element.name.unescapedName
                let raw = element.rawValue?.value
                switch kind {
                case .string:
                    if let raw {
                        guard let literal = raw.as(StringLiteralExprSyntax.self)?.representedLiteralValue else {
                            diagnostics.append(
                                Diagnostic(
                                    node: raw,
                                    message: SchemaDiagnostic.error(
                                        "rawValue",
                                        "@Schema needs the raw value of case '\(name)' to be a plain string literal"
                                    )
                                )
                            )
                            return nil
                        }
                        values.append(.string(literal))
                    } else {
                        values.append(.string(name))
                    }
                case .integer, .number:
                    if let raw {
                        guard let (literal, integral) = Self.numericLiteral(raw, allowFraction: kind == .number)
                        else {
                            diagnostics.append(
                                Diagnostic(
                                    node: raw,
                                    message: SchemaDiagnostic.error(
                                        "rawValue",
                                        "@Schema needs the raw value of case '\(name)' to be a number literal"
                                    )
                                )
                            )
                            return nil
                        }
                        previous = integral
                        values.append(integral != nil ? .integer(literal) : .number(literal))
                    } else {
                        // The compiler rejects an implicit raw value after a fractional one.
                        guard let last = previous else { return nil }
                        previous = last + 1
                        values.append(.integer(String(last + 1)))
                    }
                }
            }
        }

        if !hasRawType && !Self.declaresDecodingInitializer(decl.memberBlock.members) {
            diagnostics.append(
                Diagnostic(
                    node: decl.name,
                    message: SchemaDiagnostic.warning(
                        "noRawType",
                        "@Schema describes '\(simpleName)' as a string of its case names, but synthesized "
                            + "Codable writes a case as an object ({\"case\": {}}); declare a String raw type "
                            + "or write init(from:)"
                    )
                )
            )
        }

        let jsonType: String
        switch kind {
        case .string: jsonType = "string"
        case .integer: jsonType = "integer"
        case .number: jsonType = "number"
        }
        var members: [(String, SchemaExpression)] = [("type", .string(jsonType))]
        if let description = docComment(of: decl, through: decl.enumKeyword) {
            members.append(("description", .string(description)))
        }
        members.append(("enum", .array(values)))
        return .object(members)
    }

    /// A raw value's Swift literal and, if integral, its value (`-1`, `0x10`, `1.5`).
    private static func numericLiteral(_ expr: ExprSyntax, allowFraction: Bool) -> (String, Int?)? {
        var expr = expr
        var sign = ""
        if let prefix = expr.as(PrefixOperatorExprSyntax.self), prefix.operator.text == "-" {
            sign = "-"
            expr = prefix.expression
        }
        if let integer = expr.as(IntegerLiteralExprSyntax.self), let value = integer.representedLiteralValue {
            return (sign + String(value), sign.isEmpty ? value : -value)
        }
        if allowFraction, let float = expr.as(FloatLiteralExprSyntax.self), let value = float.representedLiteralValue,
            value.isFinite
        {
            let literal = sign + float.literal.text
            if value.rounded() == value, let integral = Int(exactly: value) {
                return (literal, sign.isEmpty ? integral : -integral)
            }
            return (literal, nil)
        }
        return nil
    }

    // MARK: Types

    /// The type a top-level optional wraps (`T?`, `T!`, `Optional<T>`), if it is one.
    private func optionalWrapped(_ type: TypeSyntax) -> TypeSyntax? {
        if let optional = type.as(OptionalTypeSyntax.self) { return optional.wrappedType }
        if let optional = type.as(ImplicitlyUnwrappedOptionalTypeSyntax.self) { return optional.wrappedType }
        if Self.standardName(of: type) == "Optional", let arguments = Self.genericArguments(of: type),
            arguments.count == 1
        {
            return arguments[0]
        }
        return nil
    }

    /// The schema of a property type, or `nil` after a diagnostic.
    private mutating func schema(for type: TypeSyntax) -> SchemaExpression? {
        if let attributed = type.as(AttributedTypeSyntax.self) { return schema(for: attributed.baseType) }
        if let wrapped = optionalWrapped(type) {
            // Inside an array or dictionary, `null` is a value, not an absent key.
            guard let inner = schema(for: wrapped) else { return nil }
            return .object([("anyOf", .array([inner, .object([("type", .string("null"))])]))])
        }
        if let array = type.as(ArrayTypeSyntax.self) {
            guard let items = schema(for: array.element) else { return nil }
            return .object([("type", .string("array")), ("items", items)])
        }
        if let dictionary = type.as(DictionaryTypeSyntax.self) {
            return dictionarySchema(type, key: dictionary.key, value: dictionary.value)
        }
        if type.is(IdentifierTypeSyntax.self) || type.is(MemberTypeSyntax.self) {
            let arguments = Self.genericArguments(of: type)
            if let name = Self.standardName(of: type) {
                switch (name, arguments?.count ?? 0) {
                case ("Array", 1), ("ContiguousArray", 1):
                    guard let items = schema(for: arguments![0]) else { return nil }
                    return .object([("type", .string("array")), ("items", items)])
                case ("Set", 1):
                    guard let items = schema(for: arguments![0]) else { return nil }
                    return .object([("type", .string("array")), ("items", items), ("uniqueItems", .bool(true))])
                case ("Dictionary", 2):
                    return dictionarySchema(type, key: arguments![0], value: arguments![1])
                case ("String", 0):
                    return .object([("type", .string("string"))])
                case ("Int", 0), ("Int8", 0), ("Int16", 0), ("Int32", 0), ("Int64", 0), ("Int128", 0),
                    ("UInt", 0), ("UInt8", 0), ("UInt16", 0), ("UInt32", 0), ("UInt64", 0), ("UInt128", 0):
                    return .object([("type", .string("integer"))])
                case ("Double", 0), ("Float", 0), ("Float16", 0), ("Float80", 0), ("CGFloat", 0), ("Decimal", 0):
                    return .object([("type", .string("number"))])
                case ("Bool", 0):
                    return .object([("type", .string("boolean"))])
                case ("Date", 0):
                    return .object([("type", .string("string")), ("format", .string("date-time"))])
                case ("URL", 0):
                    return .object([("type", .string("string")), ("format", .string("uri"))])
                case ("UUID", 0):
                    return .object([("type", .string("string")), ("format", .string("uuid"))])
                case ("Data", 0):
                    return .object([("type", .string("string")), ("contentEncoding", .string("base64"))])
                default:
                    break
                }
            }
            return reference(to: type)
        }
        diagnostics.append(
            Diagnostic(
                node: type,
                message: SchemaDiagnostic.error(
                    "unsupportedType",
                    "@Schema cannot describe type '\(type.trimmedDescription)'"
                )
            )
        )
        return nil
    }

    private mutating func dictionarySchema(_ type: TypeSyntax, key: TypeSyntax, value: TypeSyntax) -> SchemaExpression? {
        // Other keys are left to `Dictionary.jsonSchema`, which requires `String` ones: a
        // key type that is an alias of `String` still works, any other fails to compile.
        guard Self.standardName(of: key) == "String", Self.genericArguments(of: key) == nil else {
            return reference(to: type)
        }
        guard let values = schema(for: value) else { return nil }
        return .object([("type", .string("object")), ("additionalProperties", values)])
    }

    /// `T.jsonSchema`, after checking that `T` is not the type being described.
    private mutating func reference(to type: TypeSyntax) -> SchemaExpression? {
        let names = type.tokens(viewMode: .sourceAccurate).map(\.unescapedName)
        let spelled = type.trimmedDescription
        if spelled == typeName || names.contains("Self")
            || (type.as(IdentifierTypeSyntax.self).map { $0.name.unescapedName == simpleName } ?? false)
        {
            diagnostics.append(
                Diagnostic(
                    node: type,
                    message: SchemaDiagnostic.error(
                        "recursiveType",
                        "@Schema cannot describe a type that contains itself ('\(spelled)')"
                    )
                )
            )
            return nil
        }
        for parameter in genericParameters where names.contains(parameter) && !constrainedParameters.contains(parameter) {
            constrainedParameters.append(parameter)
        }
        return .code("\(spelled).jsonSchema")
    }

    /// The name of a type written `Name`, `Swift.Name` or `Foundation.Name` (generic
    /// arguments aside), or `nil` for any other spelling.
    static func standardName(of type: TypeSyntax) -> String? {
        if let identifier = type.as(IdentifierTypeSyntax.self) { return identifier.name.unescapedName }
        if let member = type.as(MemberTypeSyntax.self),
            let base = member.baseType.as(IdentifierTypeSyntax.self),
            base.genericArgumentClause == nil,
            ["Swift", "Foundation", "CoreFoundation", "CoreGraphics"].contains(base.name.text)
        {
            return member.name.unescapedName
        }
        return nil
    }

    /// The generic arguments of a named type, or `nil` if it has none.
    static func genericArguments(of type: TypeSyntax) -> [TypeSyntax]? {
        let clause =
            type.as(IdentifierTypeSyntax.self)?.genericArgumentClause
            ?? type.as(MemberTypeSyntax.self)?.genericArgumentClause
        guard let clause else { return nil }
        return clause.arguments.compactMap { argument in
            if case .type(let type) = argument.argument { return type }
            return nil
        }
    }
}
