//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// AWS credentials and region, found where the AWS CLI and SDKs look for them.
///
/// Credentials, first found wins:
/// 1. `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optionally `AWS_SESSION_TOKEN`;
/// 2. the profile `AWS_PROFILE` (else `default`) of the shared credentials file,
///    `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`;
/// 3. the same profile in the config file, `AWS_CONFIG_FILE` or `~/.aws/config`
///    (`[profile NAME]`, or `[default]`).
///
/// Region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `region` in that profile of the
/// config file.
///
/// Not resolved (yet): IAM roles (`role_arn`), SSO, `credential_process`, web identity,
/// container and instance metadata credentials. A profile that relies on one of them gets
/// an error that says so; `aws configure export-credentials --format env` turns any of
/// them into the environment variables of step 1.
///
/// Errors name the variable, file, profile and key that is missing; never a secret.
public enum AWSConfiguration {
    /// The credentials `environment` leads to.
    /// - Throws: ``ProviderConfigurationError`` naming what is missing, for `provider`.
    public static func credentials(environment: [String: String], provider: String = "bedrock") throws -> AWSCredentials {
        let env = { (name: String) -> String? in environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let keyID = env("AWS_ACCESS_KEY_ID")
        let secret = env("AWS_SECRET_ACCESS_KEY")
        switch (keyID, secret) {
        case (let keyID?, let secret?):
            return AWSCredentials(
                accessKeyID: keyID,
                secretAccessKey: secret,
                sessionToken: env("AWS_SESSION_TOKEN") ?? env("AWS_SECURITY_TOKEN")
            )
        case (.some, nil):
            throw ProviderConfigurationError(provider: provider, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        case (nil, .some):
            throw ProviderConfigurationError(provider: provider, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (nil, nil):
            break
        }

        let profile = env("AWS_PROFILE") ?? env("AWS_DEFAULT_PROFILE") ?? "default"
        let profileOrigin = env("AWS_PROFILE") != nil ? " (AWS_PROFILE)" : ""
        let credentialsPath = path(env("AWS_SHARED_CREDENTIALS_FILE"), default: ".aws/credentials", environment: environment)
        let configPath = path(env("AWS_CONFIG_FILE"), default: ".aws/config", environment: environment)
        let credentialsFile = try read(credentialsPath, provider: provider)
        let configFile = try read(configPath, provider: provider)

        var candidates: [(section: [String: String], file: String)] = []
        if let section = credentialsFile?[profile] { candidates.append((section, credentialsPath)) }
        if let section = configFile.flatMap({ configSection($0, profile: profile) }) { candidates.append((section, configPath)) }

        for (section, file) in candidates {
            let keyID = section["aws_access_key_id"].flatMap { $0.isEmpty ? nil : $0 }
            let secret = section["aws_secret_access_key"].flatMap { $0.isEmpty ? nil : $0 }
            if let keyID, let secret {
                let token = section["aws_session_token"] ?? section["aws_security_token"]
                return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token?.isEmpty == false ? token : nil)
            }
            if keyID != nil || secret != nil {
                let missing = keyID == nil ? "aws_access_key_id" : "aws_secret_access_key"
                throw ProviderConfigurationError(provider: provider, "profile '\(profile)'\(profileOrigin) in \(file) has no \(missing)")
            }
        }
        let unsupported = ["role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file", "credential_source"]
        for (section, file) in candidates {
            if let key = unsupported.first(where: { section[$0] != nil }) {
                throw ProviderConfigurationError(
                    provider: provider,
                    "profile '\(profile)'\(profileOrigin) in \(file) gets its credentials through \(key), which Harness does not resolve;"
                        + " export them with `aws configure export-credentials --profile \(profile) --format env`"
                )
            }
        }
        if env("AWS_PROFILE") != nil, candidates.isEmpty {
            let known = ((credentialsFile.map { Array($0.keys) } ?? []) + (configFile.map { profileNames($0) } ?? []))
            let list = Set(known).sorted().joined(separator: ", ")
            throw ProviderConfigurationError(
                provider: provider,
                "profile '\(profile)' (AWS_PROFILE) is in neither \(credentialsPath) nor \(configPath)"
                    + (list.isEmpty ? "" : "; profiles found: \(list)")
            )
        }
        throw ProviderConfigurationError(
            provider: provider,
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary"
                + " credentials), or put aws_access_key_id and aws_secret_access_key in profile '\(profile)' of \(credentialsPath)"
                + (credentialsFile == nil ? " (the file does not exist)" : "")
        )
    }

    /// The region `environment` names.
    /// - Throws: ``ProviderConfigurationError`` naming where a region may be set, for `provider`.
    public static func region(environment: [String: String], provider: String = "bedrock") throws -> String {
        let env = { (name: String) -> String? in environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let profile = env("AWS_PROFILE") ?? env("AWS_DEFAULT_PROFILE") ?? "default"
        let configPath = path(env("AWS_CONFIG_FILE"), default: ".aws/config", environment: environment)
        let fromFile = { () throws -> String? in
            guard let file = try read(configPath, provider: provider) else { return nil }
            return configSection(file, profile: profile)?["region"].flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let region = try env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? fromFile() else {
            throw ProviderConfigurationError(
                provider: provider,
                "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or region in profile '\(profile)' of \(configPath)"
            )
        }
        guard region.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
            throw ProviderConfigurationError(provider: provider, "'\(region)' is not an AWS region name (such as us-east-1)")
        }
        return region
    }

    /// `[name]` in a config file is `[profile name]`, except `[default]`.
    static func configSection(_ file: [String: [String: String]], profile: String) -> [String: String]? {
        if let section = file["profile \(profile)"] { return section }
        return profile == "default" ? file["default"] : nil
    }

    static func profileNames(_ config: [String: [String: String]]) -> [String] {
        config.keys.map { $0.hasPrefix("profile ") ? String($0.dropFirst(8)).trimmingCharacters(in: .whitespaces) : $0 }
    }

    static func path(_ configured: String?, default relative: String, environment: [String: String]) -> String {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        guard let configured else { return (home as NSString).appendingPathComponent(relative) }
        if configured == "~" { return home }
        if configured.hasPrefix("~/") { return (home as NSString).appendingPathComponent(String(configured.dropFirst(2))) }
        return configured
    }

    /// The file's sections, or nil if it does not exist.
    static func read(_ path: String, provider: String) throws -> [String: [String: String]]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProviderConfigurationError(provider: provider, "\(path) exists but cannot be read")
        }
        return parseINI(String(decoding: data, as: UTF8.self))
    }

    /// The INI dialect of the AWS shared files, as botocore's `raw_config_parse` reads it:
    /// `[section]` headers, `key = value` or `key: value` (keys lowercased, both sides trimmed),
    /// whole-line comments starting with `#` or `;` (a `#` after a value is part of it), and
    /// indented lines continuing the previous value (the nested `s3 =` style; kept, unused).
    /// A section that appears twice is merged.
    static func parseINI(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        var lastKey: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if let first = rawLine.first, first == " " || first == "\t", let current, let lastKey {
                sections[current, default: [:]][lastKey, default: ""] += "\n" + line
                continue
            }
            if line.hasPrefix("["), line.hasSuffix("]") {
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                current = name
                lastKey = nil
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let current, let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            let key = line[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces)
            sections[current, default: [:]][key] = value
            lastKey = key
        }
        return sections
    }
}
