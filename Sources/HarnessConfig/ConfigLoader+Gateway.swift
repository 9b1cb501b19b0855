//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Yams

extension ConfigLoader {
    typealias SectionWalker = @Sendable (Node, String, inout HarnessConfiguration, inout [ConfigDiagnostic]) -> Void

    /// Top-level sections with their own shape: the gateway's.
    static let gatewaySections: [String: SectionWalker] = [
        "server": { node, source, config, diagnostics in walkServer(node, source: source, config: &config, diagnostics: &diagnostics) },
        "models": { node, source, config, diagnostics in walkModels(node, source: source, config: &config, diagnostics: &diagnostics) },
        "agents": { node, source, config, diagnostics in walkAgents(node, source: source, config: &config, diagnostics: &diagnostics) },
    ]

    /// The scalar fields of a mapping, each reported when unknown or repeated.
    struct Fields {
        var values: [String: (node: Node, line: Int?)] = [:]
        var ok = true
    }

    static func fields(
        of node: Node, path: String, allowed: [String], source: String, diagnostics: inout [ConfigDiagnostic]
    ) -> Fields? {
        guard case .mapping(let mapping) = node else {
            diagnostics.append(ConfigDiagnostic(source: source, line: node.mark?.line, key: path, message: "must be a mapping"))
            return nil
        }
        var out = Fields()
        for (keyNode, valueNode) in mapping {
            let name = keyNode.string ?? ""
            let line = keyNode.mark?.line
            guard allowed.contains(name) else {
                var message = "unknown key"
                if let near = allowed.min(by: { editDistance($0, name) < editDistance($1, name) }), editDistance(near, name) <= 3 {
                    message += "; did you mean '\(near)'?"
                }
                diagnostics.append(ConfigDiagnostic(source: source, line: line, key: "\(path).\(name)", message: message))
                out.ok = false
                continue
            }
            if out.values[name] != nil {
                diagnostics.append(ConfigDiagnostic(source: source, line: line, key: "\(path).\(name)", message: "appears twice"))
                out.ok = false
                continue
            }
            out.values[name] = (valueNode, valueNode.mark?.line ?? line)
        }
        return out
    }

    /// A scalar field parsed as `kind`, or a diagnostic.
    static func scalar(
        _ fields: inout Fields, _ name: String, path: String, kind: Kind, source: String, diagnostics: inout [ConfigDiagnostic]
    ) -> Value? {
        guard let (node, line) = fields.values[name] else { return nil }
        let key = Key(path: "\(path).\(name)", kind: kind, nullable: false) { _, _ in }
        switch parse(node, as: key) {
        case .success(let value): return value
        case .failure(let problem):
            diagnostics.append(ConfigDiagnostic(source: source, line: line, key: "\(path).\(name)", message: problem))
            fields.ok = false
            return nil
        }
    }

    static let serverKeys = ["host", "port", "max_body_size", "auth", "admin_key_env", "tenant", "shutdown_timeout", "relay"]

    static func walkServer(_ node: Node, source: String, config: inout HarnessConfiguration, diagnostics: inout [ConfigDiagnostic]) {
        guard var f = fields(of: node, path: "server", allowed: serverKeys, source: source, diagnostics: &diagnostics) else { return }
        for name in serverKeys {
            let kind = serverKind(name)
            guard let value = scalar(&f, name, path: "server", kind: kind, source: source, diagnostics: &diagnostics) else { continue }
            applyServer(name, value, to: &config.server)
        }
    }

    static func serverKind(_ name: String) -> Kind {
        switch name {
        case "port", "max_body_size": return .int
        case "auth": return .choice(GatewaySettings.AuthMode.allCases.map(\.rawValue))
        case "shutdown_timeout": return .duration
        case "relay": return .bool
        default: return .string
        }
    }

    static func applyServer(_ name: String, _ value: Value, to s: inout GatewaySettings) {
        switch (name, value) {
        case ("host", .string(let v)): s.host = v
        case ("port", .int(let v)): s.port = v
        case ("max_body_size", .int(let v)): s.maxBodySize = v
        case ("auth", .string(let v)): s.auth = GatewaySettings.AuthMode(rawValue: v) ?? .auto
        case ("admin_key_env", .string(let v)): s.adminKeyEnv = v
        case ("tenant", .string(let v)): s.tenant = v
        case ("shutdown_timeout", .duration(let v?)): s.shutdownTimeout = v
        case ("relay", .bool(let v)): s.relay = v
        default: break
        }
    }

    /// `HARNESS_SERVER_PORT=9000` and the like.
    static func applyServerEnvironment(_ environment: [String: String], config: inout HarnessConfiguration, diagnostics: inout [ConfigDiagnostic]) {
        for name in serverKeys {
            let variable = environmentName(for: "server.\(name)")
            guard let raw = environment[variable] else { continue }
            let key = Key(path: "server.\(name)", kind: serverKind(name), nullable: false) { _, _ in }
            switch parseScalar(raw, as: key) {
            case .success(let value): applyServer(name, value, to: &config.server)
            case .failure(let problem): diagnostics.append(ConfigDiagnostic(source: "environment", key: variable, message: problem))
            }
        }
    }

    static let modelKeys = ["strategy", "routes", "provider", "model", "base_url", "api_key_env", "weight", "region"]
    static let routeKeys = ["provider", "model", "base_url", "api_key_env", "weight", "region"]

    static func walkModels(_ node: Node, source: String, config: inout HarnessConfiguration, diagnostics: inout [ConfigDiagnostic]) {
        guard case .mapping(let mapping) = node else {
            diagnostics.append(ConfigDiagnostic(source: source, line: node.mark?.line, key: "models", message: "must be a mapping of model names to their routes"))
            return
        }
        var seen: Set<String> = []
        for (nameNode, modelNode) in mapping {
            let name = nameNode.string ?? ""
            let path = "models.\(name)"
            guard seen.insert(name).inserted else {
                diagnostics.append(ConfigDiagnostic(source: source, line: nameNode.mark?.line, key: path, message: "appears twice"))
                continue
            }
            guard var f = fields(of: modelNode, path: path, allowed: modelKeys, source: source, diagnostics: &diagnostics) else { continue }
            var strategy = "fallback"
            if case .string(let s)? = scalar(&f, "strategy", path: path, kind: .choice(ModelSettings.strategies), source: source, diagnostics: &diagnostics) {
                strategy = s
            }
            var routes: [RouteSettings] = []
            if let (routesNode, line) = f.values["routes"] {
                if f.values["provider"] != nil {
                    diagnostics.append(ConfigDiagnostic(source: source, line: line, key: "\(path).routes", message: "give either routes or one inline provider, not both"))
                    continue
                }
                guard case .sequence(let items) = routesNode, !items.isEmpty else {
                    diagnostics.append(ConfigDiagnostic(source: source, line: line, key: "\(path).routes", message: "must be a non-empty list of routes (each with a provider)"))
                    continue
                }
                for (i, item) in items.enumerated() {
                    if let route = parseRoute(item, path: "\(path).routes[\(i)]", source: source, diagnostics: &diagnostics) { routes.append(route) }
                }
                guard routes.count == items.count else { continue }
            } else {
                var inline = f
                inline.values["strategy"] = nil
                guard inline.values["provider"] != nil else {
                    diagnostics.append(ConfigDiagnostic(source: source, line: modelNode.mark?.line, key: "\(path).provider", message: "is required (or give routes)"))
                    continue
                }
                guard let route = route(from: &inline, path: path, source: source, diagnostics: &diagnostics) else { continue }
                routes = [route]
            }
            guard f.ok else { continue }
            config.models.append(ModelSettings(name: name, strategy: strategy, routes: routes))
        }
    }

    static func parseRoute(_ node: Node, path: String, source: String, diagnostics: inout [ConfigDiagnostic]) -> RouteSettings? {
        guard var f = fields(of: node, path: path, allowed: routeKeys, source: source, diagnostics: &diagnostics) else { return nil }
        return route(from: &f, path: path, source: source, diagnostics: &diagnostics)
    }

    static func route(from f: inout Fields, path: String, source: String, diagnostics: inout [ConfigDiagnostic]) -> RouteSettings? {
        guard case .string(let provider)? = scalar(&f, "provider", path: path, kind: .choice(RouteSettings.providers), source: source, diagnostics: &diagnostics) else {
            if f.values["provider"] == nil {
                diagnostics.append(ConfigDiagnostic(source: source, key: "\(path).provider", message: "is required: one of \(RouteSettings.providers.joined(separator: ", "))"))
            }
            return nil
        }
        var route = RouteSettings(provider: provider)
        if case .string(let s)? = scalar(&f, "model", path: path, kind: .string, source: source, diagnostics: &diagnostics) { route.model = s }
        if case .string(let s)? = scalar(&f, "base_url", path: path, kind: .string, source: source, diagnostics: &diagnostics) {
            if !(s.hasPrefix("http://") || s.hasPrefix("https://")) {
                diagnostics.append(ConfigDiagnostic(source: source, line: f.values["base_url"]?.line, key: "\(path).base_url", message: "must be an http:// or https:// URL, not '\(s)'"))
                f.ok = false
            }
            route.baseURL = s
        }
        if case .string(let s)? = scalar(&f, "api_key_env", path: path, kind: .string, source: source, diagnostics: &diagnostics) { route.apiKeyEnv = s }
        if case .double(let d)? = scalar(&f, "weight", path: path, kind: .double, source: source, diagnostics: &diagnostics) { route.weight = d }
        if case .string(let s)? = scalar(&f, "region", path: path, kind: .string, source: source, diagnostics: &diagnostics) { route.region = s }
        return f.ok ? route : nil
    }

    static let agentKeys = ["model", "instructions", "tools", "max_iterations"]

    static func walkAgents(_ node: Node, source: String, config: inout HarnessConfiguration, diagnostics: inout [ConfigDiagnostic]) {
        guard case .mapping(let mapping) = node else {
            diagnostics.append(ConfigDiagnostic(source: source, line: node.mark?.line, key: "agents", message: "must be a mapping of agent names to their settings"))
            return
        }
        for (nameNode, agentNode) in mapping {
            let name = nameNode.string ?? ""
            let path = "agents.\(name)"
            guard var f = fields(of: agentNode, path: path, allowed: agentKeys, source: source, diagnostics: &diagnostics) else { continue }
            guard case .string(let model)? = scalar(&f, "model", path: path, kind: .string, source: source, diagnostics: &diagnostics) else {
                if f.values["model"] == nil {
                    diagnostics.append(ConfigDiagnostic(source: source, line: agentNode.mark?.line, key: "\(path).model", message: "is required: the name of a configured model"))
                }
                continue
            }
            var agent = AgentSettings(name: name, model: model)
            if case .string(let s)? = scalar(&f, "instructions", path: path, kind: .string, source: source, diagnostics: &diagnostics) { agent.instructions = s }
            if case .list(let l)? = scalar(&f, "tools", path: path, kind: .stringList, source: source, diagnostics: &diagnostics) { agent.tools = l }
            if case .int(let i)? = scalar(&f, "max_iterations", path: path, kind: .int, source: source, diagnostics: &diagnostics) { agent.maxIterations = i }
            if f.ok { config.agents.append(agent) }
        }
    }

    static func validateGateway(_ config: HarnessConfiguration, source: String, diagnostics: inout [ConfigDiagnostic]) {
        if !(1...65535).contains(config.server.port) && config.server.port != 0 {
            diagnostics.append(ConfigDiagnostic(source: source, key: "server.port", message: "must be between 0 and 65535"))
        }
        if config.server.maxBodySize < 1024 {
            diagnostics.append(ConfigDiagnostic(source: source, key: "server.max_body_size", message: "must be at least 1024 bytes"))
        }
        let modelNames = Set(config.models.map(\.name))
        for agent in config.agents where !modelNames.contains(agent.model) && !(config.models.isEmpty && agent.model == "scripted") {
            let known = modelNames.isEmpty ? "scripted" : modelNames.sorted().joined(separator: ", ")
            diagnostics.append(ConfigDiagnostic(source: source, key: "agents.\(agent.name).model", message: "names '\(agent.model)', which is not a configured model (\(known))"))
        }
    }
}
