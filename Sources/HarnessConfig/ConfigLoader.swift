//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import Yams
import Foundation

/// Reads `harness.yaml` and `HARNESS_*` environment overrides into a
/// ``HarnessConfiguration``. Every key is checked: a bad value is reported with its key and
/// line, an unknown key is reported (with the nearest known one), never ignored.
///
/// Environment variables override the file: `HARNESS_` followed by the dotted key in upper
/// case with `_` for `.`, such as `HARNESS_CACHE_CAPACITY=500` or
/// `HARNESS_POLICY_MAX_ITERATIONS=4`; lists are comma-separated.
public enum ConfigLoader {
    enum Kind: Sendable {
        case bool, int, double, duration, string, stringList
        case choice([String])

        var name: String {
            switch self {
            case .bool: return "a boolean (true or false)"
            case .int: return "a whole number"
            case .double: return "a number"
            case .duration: return "a duration such as 500ms, 30s, 5m or 1h (or seconds as a number)"
            case .string: return "a string"
            case .stringList: return "a list of strings"
            case .choice(let options): return "one of " + options.joined(separator: ", ")
            }
        }
    }

    enum Value: Sendable {
        case bool(Bool), int(Int), double(Double), duration(Duration?), string(String), list([String]), null
    }

    struct Key: Sendable {
        let path: String
        let kind: Kind
        /// Whether `null` / `none` / `off` is accepted (meaning: no limit).
        let nullable: Bool
        let apply: @Sendable (inout HarnessConfiguration, Value) -> Void
    }

    /// Every key the file may hold.
    static let keys: [Key] = [
        Key(path: "storage", kind: .string, nullable: false) { c, v in if case .string(let s) = v { c.storage = s } },
        Key(path: "cache.enabled", kind: .bool, nullable: false) { c, v in if case .bool(let b) = v { c.cache.enabled = b } },
        Key(path: "cache.capacity", kind: .int, nullable: false) { c, v in if case .int(let i) = v { c.cache.capacity = i } },
        Key(path: "cache.ttl", kind: .duration, nullable: true) { c, v in if case .duration(let d) = v { c.cache.ttl = d } },
        Key(path: "rate_limit.enabled", kind: .bool, nullable: false) { c, v in if case .bool(let b) = v { c.rateLimit.enabled = b } },
        Key(path: "rate_limit.capacity", kind: .double, nullable: false) { c, v in if case .double(let d) = v { c.rateLimit.capacity = d } },
        Key(path: "rate_limit.refill_per_second", kind: .double, nullable: false) { c, v in if case .double(let d) = v { c.rateLimit.refillPerSecond = d } },
        Key(path: "rate_limit.mode", kind: .choice(["wait", "refuse"]), nullable: false) { c, v in if case .string(let s) = v { c.rateLimit.refuse = s == "refuse" } },
        Key(path: "rate_limit.max_wait", kind: .duration, nullable: true) { c, v in if case .duration(let d) = v { c.rateLimit.maxWait = d } },
        Key(path: "policy.max_iterations", kind: .int, nullable: false) { c, v in if case .int(let i) = v { c.policy.maxIterations = i } },
        Key(path: "policy.max_tool_depth", kind: .int, nullable: false) { c, v in if case .int(let i) = v { c.policy.maxToolDepth = i } },
        Key(path: "policy.max_tool_calls", kind: .int, nullable: true) { c, v in c.policy.maxToolCalls = v.int },
        Key(path: "policy.max_total_tokens", kind: .int, nullable: true) { c, v in c.policy.maxTotalTokens = v.int },
        Key(path: "policy.max_output_size", kind: .int, nullable: true) { c, v in c.maxOutputSize = v.int },
        Key(path: "policy.max_tool_output_size", kind: .int, nullable: false) { c, v in if case .int(let i) = v { c.policy.maxToolOutputBytes = i } },
        Key(path: "policy.tool_timeout", kind: .duration, nullable: true) { c, v in if case .duration(let d) = v { c.policy.toolTimeout = d } },
        Key(path: "policy.tool_concurrency", kind: .int, nullable: false) { c, v in if case .int(let i) = v { c.policy.toolConcurrency = i } },
        Key(path: "policy.eager_tools", kind: .bool, nullable: false) { c, v in if case .bool(let b) = v { c.policy.eagerToolExecution = b } },
        Key(path: "policy.loop_threshold", kind: .int, nullable: true) { c, v in c.policy.loopThreshold = v.int },
        Key(path: "guardrails.blocked_words", kind: .stringList, nullable: false) { c, v in if case .list(let l) = v { c.guardrails.blockedWords = l } },
        Key(path: "guardrails.blocked_patterns", kind: .stringList, nullable: false) { c, v in if case .list(let l) = v { c.guardrails.blockedPatterns = l } },
        Key(path: "guardrails.allowed_tools", kind: .stringList, nullable: true) { c, v in if case .list(let l) = v { c.guardrails.allowedTools = l } else { c.guardrails.allowedTools = nil } },
        Key(path: "tracing.enabled", kind: .bool, nullable: false) { c, v in if case .bool(let b) = v { c.tracing.enabled = b } },
        Key(path: "tracing.sample_rate", kind: .double, nullable: false) { c, v in if case .double(let d) = v { c.tracing.sampleRate = d } },
        Key(path: "tracing.otlp_endpoint", kind: .string, nullable: true) { c, v in if case .string(let s) = v { c.tracing.otlpEndpoint = s } else { c.tracing.otlpEndpoint = nil } },
        Key(path: "tracing.service_name", kind: .string, nullable: false) { c, v in if case .string(let s) = v { c.tracing.serviceName = s } },
        Key(path: "tracing.export_metrics", kind: .bool, nullable: false) { c, v in if case .bool(let b) = v { c.tracing.exportMetrics = b } },
        Key(path: "retry.max_attempts", kind: .int, nullable: false) { c, v in if case .int(let i) = v { c.retry.maxAttempts = i } },
        Key(path: "retry.base_delay", kind: .duration, nullable: false) { c, v in if case .duration(let d?) = v { c.retry.baseDelay = d } },
        Key(path: "retry.factor", kind: .double, nullable: false) { c, v in if case .double(let d) = v { c.retry.factor = d } },
        Key(path: "retry.max_delay", kind: .duration, nullable: false) { c, v in if case .duration(let d?) = v { c.retry.maxDelay = d } },
        Key(path: "retry.deadline", kind: .duration, nullable: true) { c, v in if case .duration(let d) = v { c.retry.deadline = d } },
        Key(path: "retry.attempt_timeout", kind: .duration, nullable: true) { c, v in if case .duration(let d) = v { c.retry.attemptTimeout = d } },
        Key(path: "circuit_breaker.enabled", kind: .bool, nullable: false) { c, v in
            if case .bool(let b) = v { c.circuitBreaker = b ? (c.circuitBreaker ?? .init()) : nil }
        },
        Key(path: "circuit_breaker.failure_threshold", kind: .int, nullable: false) { c, v in if case .int(let i) = v { c.circuitBreaker?.failureThreshold = i } },
        Key(path: "circuit_breaker.failure_rate", kind: .double, nullable: true) { c, v in
            if case .double(let d) = v { c.circuitBreaker?.failureRateThreshold = d } else { c.circuitBreaker?.failureRateThreshold = nil }
        },
        Key(path: "circuit_breaker.window", kind: .duration, nullable: false) { c, v in if case .duration(let d?) = v { c.circuitBreaker?.window = d } },
        Key(path: "circuit_breaker.minimum_requests", kind: .int, nullable: false) { c, v in if case .int(let i) = v { c.circuitBreaker?.minimumRequests = i } },
        Key(path: "circuit_breaker.open_timeout", kind: .duration, nullable: false) { c, v in if case .duration(let d?) = v { c.circuitBreaker?.openTimeout = d } },
        Key(path: "circuit_breaker.half_open_probes", kind: .int, nullable: false) { c, v in if case .int(let i) = v { c.circuitBreaker?.halfOpenProbes = i } },
        Key(path: "circuit_breaker.success_threshold", kind: .int, nullable: false) { c, v in if case .int(let i) = v { c.circuitBreaker?.successThreshold = i } },
        Key(path: "routing.strategy", kind: .choice(RoutingStrategy.allCases.map(\.rawValue)), nullable: false) { c, v in
            if case .string(let s) = v, let strategy = RoutingStrategy(rawValue: s) { c.routing.strategy = strategy }
        },
        Key(path: "routing.hedge_delay", kind: .duration, nullable: true) { c, v in if case .duration(let d) = v { c.routing.hedgeDelay = d } },
        Key(path: "routing.health_check_interval", kind: .duration, nullable: false) { c, v in if case .duration(let d?) = v { c.routing.healthCheckInterval = d } },
    ]

    static let keysByPath: [String: Key] = Dictionary(uniqueKeysWithValues: keys.map { ($0.path, $0) })
    static let sections: Set<String> = Set(keys.filter { $0.path.contains(".") }.map { String($0.path.split(separator: ".")[0]) })

    /// The environment variable that overrides `path`.
    public static func environmentName(for path: String) -> String {
        "HARNESS_" + path.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// The dotted keys a file may hold.
    public static var knownKeys: [String] { keys.map(\.path) }

    /// Loads the file at `path` (defaults when `nil`), then applies `environment` overrides.
    /// - Throws: ``ConfigError`` listing every problem.
    public static func load(
        path: String?,
        environment: [String: String]? = nil
    ) throws -> HarnessConfiguration {
        let environment = environment ?? ProcessInfo.processInfo.environment
        var text = ""
        var source = "defaults"
        if let path {
            source = path
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigError([ConfigDiagnostic(source: path, message: "cannot read the file: \(error.localizedDescription)")])
            }
        }
        return try load(yaml: text, source: source, environment: environment)
    }

    /// Loads configuration from YAML text. `source` names it in diagnostics.
    public static func load(
        yaml: String,
        source: String = "harness.yaml",
        environment: [String: String] = [:]
    ) throws -> HarnessConfiguration {
        var config = HarnessConfiguration()
        var diagnostics: [ConfigDiagnostic] = []
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigError([ConfigDiagnostic(source: source, line: line(of: error), message: "not valid YAML: \(describe(error))")])
        } catch {
            throw ConfigError([ConfigDiagnostic(source: source, message: "not valid YAML: \(error)")])
        }
        if let root {
            walk(root, prefix: "", source: source, config: &config, diagnostics: &diagnostics)
        }
        applyEnvironment(environment, config: &config, diagnostics: &diagnostics)
        applyServerEnvironment(environment, config: &config, diagnostics: &diagnostics)
        if let url = environment["HARNESS_DATABASE_URL"], !url.isEmpty { config.storage = url }
        validate(config, source: source, diagnostics: &diagnostics)
        validateGateway(config, source: source, diagnostics: &diagnostics)
        if !diagnostics.isEmpty { throw ConfigError(diagnostics) }
        return config
    }

    static func walk(_ node: Node, prefix: String, source: String, config: inout HarnessConfiguration, diagnostics: inout [ConfigDiagnostic]) {
        guard case .mapping(let mapping) = node else {
            if case .scalar(let s) = node, s.string.isEmpty, prefix.isEmpty { return }  // empty file
            diagnostics.append(ConfigDiagnostic(
                source: source, line: node.mark?.line, key: prefix.isEmpty ? nil : prefix,
                message: prefix.isEmpty ? "the file must be a mapping of sections (cache, rate_limit, policy, guardrails, tracing)" : "must be a mapping"
            ))
            return
        }
        var seen: Set<String> = []
        for (keyNode, valueNode) in mapping {
            let name = keyNode.string ?? ""
            let path = prefix.isEmpty ? name : prefix + "." + name
            let line = keyNode.mark?.line
            if !seen.insert(name).inserted {
                diagnostics.append(ConfigDiagnostic(source: source, line: line, key: path, message: "appears twice"))
                continue
            }
            if prefix.isEmpty, let walker = gatewaySections[name] {
                if case .scalar(let s) = valueNode, isNull(s.string) { continue }
                walker(valueNode, source, &config, &diagnostics)
            } else if prefix.isEmpty, name == "pricing" {
                if case .scalar(let s) = valueNode, isNull(s.string) { continue }
                walkPricing(valueNode, source: source, config: &config, diagnostics: &diagnostics)
            } else if prefix.isEmpty, sections.contains(name) {
                if case .scalar(let s) = valueNode, isNull(s.string) { continue }  // empty section
                walk(valueNode, prefix: path, source: source, config: &config, diagnostics: &diagnostics)
            } else if let key = keysByPath[path] {
                switch parse(valueNode, as: key) {
                case .success(let value): key.apply(&config, value)
                case .failure(let problem):
                    diagnostics.append(ConfigDiagnostic(source: source, line: valueNode.mark?.line ?? line, key: path, message: problem))
                }
            } else {
                var message = "unknown key"
                if let suggestion = nearest(path) { message += "; did you mean '\(suggestion)'?" }
                diagnostics.append(ConfigDiagnostic(source: source, line: line, key: path, message: message))
            }
        }
    }

    /// `pricing:` maps model names (any) to prices; each field is a non-negative number.
    static func walkPricing(_ node: Node, source: String, config: inout HarnessConfiguration, diagnostics: inout [ConfigDiagnostic]) {
        guard case .mapping(let models) = node else {
            diagnostics.append(ConfigDiagnostic(source: source, line: node.mark?.line, key: "pricing", message: "must be a mapping of model names to prices"))
            return
        }
        let fields = ["input", "output", "cache_read", "cache_write", "reasoning"]
        for (modelNode, priceNode) in models {
            let model = modelNode.string ?? ""
            let path = "pricing.\(model)"
            guard case .mapping(let entries) = priceNode else {
                diagnostics.append(ConfigDiagnostic(source: source, line: priceNode.mark?.line, key: path, message: "must be a mapping with input and output (USD per million tokens)"))
                continue
            }
            var values: [String: Double] = [:]
            var ok = true
            for (fieldNode, valueNode) in entries {
                let field = fieldNode.string ?? ""
                guard fields.contains(field) else {
                    var message = "unknown key"
                    if let near = fields.min(by: { editDistance($0, field) < editDistance($1, field) }), editDistance(near, field) <= 3 {
                        message += "; did you mean '\(near)'?"
                    }
                    diagnostics.append(ConfigDiagnostic(source: source, line: fieldNode.mark?.line, key: "\(path).\(field)", message: message))
                    ok = false
                    continue
                }
                guard case .scalar(let scalar) = valueNode, let number = Double(scalar.string.trimmingCharacters(in: .whitespaces)),
                    number >= 0, number.isFinite
                else {
                    diagnostics.append(ConfigDiagnostic(source: source, line: valueNode.mark?.line, key: "\(path).\(field)", message: "must be a non-negative number of USD per million tokens"))
                    ok = false
                    continue
                }
                values[field] = number
            }
            for required in ["input", "output"] where values[required] == nil && ok {
                diagnostics.append(ConfigDiagnostic(source: source, line: priceNode.mark?.line, key: "\(path).\(required)", message: "is required"))
                ok = false
            }
            guard ok, let input = values["input"], let output = values["output"] else { continue }
            config.pricing[model] = ModelPrice(
                input: input,
                output: output,
                cacheRead: values["cache_read"],
                cacheWrite: values["cache_write"],
                reasoning: values["reasoning"]
            )
        }
    }

    enum Parsed {
        case success(Value)
        case failure(String)
    }

    static func parse(_ node: Node, as key: Key) -> Parsed {
        if case .scalar(let s) = node, key.nullable, isNull(s.string) || ["none", "off"].contains(s.string.lowercased()) {
            if case .stringList = key.kind { return .success(.null) }
            if case .duration = key.kind { return .success(.duration(nil)) }
            return .success(.null)
        }
        switch key.kind {
        case .stringList:
            guard case .sequence(let seq) = node else { return .failure("must be \(key.kind.name)") }
            var items: [String] = []
            for item in seq {
                guard case .scalar(let s) = item else { return .failure("must be \(key.kind.name); an item is not a string") }
                items.append(s.string)
            }
            return .success(.list(items))
        default:
            guard case .scalar(let s) = node else { return .failure("must be \(key.kind.name)") }
            return parseScalar(s.string, as: key)
        }
    }

    static func parseScalar(_ text: String, as key: Key) -> Parsed {
        let t = text.trimmingCharacters(in: .whitespaces)
        let problem = "must be \(key.kind.name), not '\(t)'"
        switch key.kind {
        case .bool:
            switch t.lowercased() {
            case "true", "yes", "on", "1": return .success(.bool(true))
            case "false", "no", "off", "0": return .success(.bool(false))
            default: return .failure(problem)
            }
        case .int:
            guard let i = Int(t.replacingOccurrences(of: "_", with: "")) else { return .failure(problem) }
            guard i >= 0 else { return .failure("must not be negative, not \(i)") }
            return .success(.int(i))
        case .double:
            guard let d = Double(t), d.isFinite else { return .failure(problem) }
            guard d >= 0 else { return .failure("must not be negative, not \(t)") }
            return .success(.double(d))
        case .duration:
            guard let d = parseDuration(t) else { return .failure(problem) }
            return .success(.duration(d))
        case .string:
            return .success(.string(t))
        case .choice(let options):
            guard options.contains(t) else { return .failure(problem) }
            return .success(.string(t))
        case .stringList:
            return .success(.list(t.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }))
        }
    }

    /// `500ms`, `30s`, `5m`, `1h`, or a number of seconds.
    public static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            if let v = Double(number), v >= 0, v.isFinite { return .milliseconds(Int64((v * scale * 1000).rounded())) }
            if suffix == "s" { continue }  // "ms" handled first; "5s" handled here
            return nil
        }
        if let v = Double(text), v >= 0, v.isFinite { return .milliseconds(Int64((v * 1000).rounded())) }
        return nil
    }

    static func applyEnvironment(_ environment: [String: String], config: inout HarnessConfiguration, diagnostics: inout [ConfigDiagnostic]) {
        for key in keys {
            let name = environmentName(for: key.path)
            guard let raw = environment[name] else { continue }
            if key.nullable, ["null", "none", "off", ""].contains(raw.lowercased()), !isBoolKind(key.kind) {
                key.apply(&config, key.kind.isDuration ? .duration(nil) : .null)
                continue
            }
            switch parseScalar(raw, as: key) {
            case .success(let value): key.apply(&config, value)
            case .failure(let problem):
                diagnostics.append(ConfigDiagnostic(source: "environment", key: name, message: problem))
            }
        }
    }

    static func isNull(_ text: String) -> Bool {
        ["", "~", "null", "Null", "NULL"].contains(text)
    }

    static func isBoolKind(_ kind: Kind) -> Bool {
        if case .bool = kind { return true }
        return false
    }

    static func validate(_ config: HarnessConfiguration, source: String, diagnostics: inout [ConfigDiagnostic]) {
        if !(config.storage.hasPrefix("sqlite:") || config.storage.hasPrefix("postgres://") || config.storage.hasPrefix("postgresql://")) {
            diagnostics.append(ConfigDiagnostic(source: source, key: "storage", message: "must be sqlite:PATH or a postgres:// URL"))
        }
        if config.cache.capacity < 1 {
            diagnostics.append(ConfigDiagnostic(source: source, key: "cache.capacity", message: "must be at least 1"))
        }
        if config.rateLimit.enabled, config.rateLimit.capacity < 1 {
            diagnostics.append(ConfigDiagnostic(source: source, key: "rate_limit.capacity", message: "must be at least 1"))
        }
        if let endpoint = config.tracing.otlpEndpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            diagnostics.append(ConfigDiagnostic(source: source, key: "tracing.otlp_endpoint", message: "must be an http:// or https:// URL, not '\(endpoint)'"))
        }
        if config.tracing.sampleRate > 1 {
            diagnostics.append(ConfigDiagnostic(source: source, key: "tracing.sample_rate", message: "must be between 0 and 1"))
        }
        if config.retry.maxAttempts < 1 {
            diagnostics.append(ConfigDiagnostic(source: source, key: "retry.max_attempts", message: "must be at least 1"))
        }
        if config.retry.factor < 1 {
            diagnostics.append(ConfigDiagnostic(source: source, key: "retry.factor", message: "must be at least 1"))
        }
        if config.retry.baseDelay > config.retry.maxDelay {
            diagnostics.append(ConfigDiagnostic(source: source, key: "retry.base_delay", message: "must not exceed retry.max_delay (\(config.retry.maxDelay))"))
        }
        if let breaker = config.circuitBreaker {
            if let rate = breaker.failureRateThreshold, !(rate > 0 && rate <= 1) {
                diagnostics.append(ConfigDiagnostic(source: source, key: "circuit_breaker.failure_rate", message: "must be above 0 and at most 1"))
            }
            for (key, value) in [("failure_threshold", breaker.failureThreshold), ("minimum_requests", breaker.minimumRequests),
                                 ("half_open_probes", breaker.halfOpenProbes), ("success_threshold", breaker.successThreshold)] where value < 1 {
                diagnostics.append(ConfigDiagnostic(source: source, key: "circuit_breaker.\(key)", message: "must be at least 1"))
            }
        }
        for (i, pattern) in config.guardrails.blockedPatterns.enumerated() {
            if (try? NSRegularExpression(pattern: pattern)) == nil {
                diagnostics.append(ConfigDiagnostic(source: source, key: "guardrails.blocked_patterns[\(i)]", message: "not a valid regular expression: \(pattern)"))
            }
        }
    }

    /// The known key closest to `path` by edit distance, if it is close.
    static func nearest(_ path: String) -> String? {
        let candidates = sections.contains(path) ? [] : keys.map(\.path) + sections.sorted() + ["pricing"] + gatewaySections.keys.sorted()
        var best: (String, Int)? = nil
        for candidate in candidates {
            let d = editDistance(path, candidate)
            if d <= max(2, path.count / 4), d < (best?.1 ?? .max) { best = (candidate, d) }
        }
        return best?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        var prev = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var row = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(1, b.count) where !b.isEmpty {
                row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = row
        }
        return a.isEmpty ? b.count : prev[b.count]
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _): return mark.line
        default: return nil
        }
    }

    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        default:
            return "\(error)"
        }
    }
}

extension ConfigLoader.Value {
    var int: Int? {
        if case .int(let i) = self { return i }
        return nil
    }
}

extension ConfigLoader.Kind {
    var isDuration: Bool {
        if case .duration = self { return true }
        return false
    }
}
