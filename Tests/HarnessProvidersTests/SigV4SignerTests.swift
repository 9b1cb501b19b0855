//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HarnessProviders
import Testing

/// AWS's Signature Version 4 test suite (../shared/conformance/aws-sigv4-test-suite): every
/// case's canonical request, string to sign and Authorization header, byte for byte.
@Suite struct SigV4SignerTests {
    static var root: URL {
        if let dir = ProcessInfo.processInfo.environment["HARNESS_CONFORMANCE_DIR"] {
            return URL(fileURLWithPath: dir).appendingPathComponent("aws-sigv4-test-suite")
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/conformance/aws-sigv4-test-suite")
    }

    /// Case folders: those holding a `.req`.
    static func caseDirectories() throws -> [URL] {
        var found: [URL] = []
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if url.pathExtension == "req" { found.append(url.deletingLastPathComponent()) }
        }
        return found.sorted { $0.path < $1.path }
    }

    /// Parses a raw `.req`: request line, `Name:value` headers (folded lines continue the
    /// previous value), an optional blank line and body.
    static func parse(_ text: String) -> SigV4Signer.Request {
        var lines = text.components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        var target = String(requestLine.dropFirst(method.count + 1))
        if let r = target.range(of: " HTTP/", options: .backwards) { target = String(target[..<r.lowerBound]) }
        var path = target
        var query = ""
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
        }
        var headers: [(name: String, value: String)] = []
        var body: [UInt8] = []
        while !lines.isEmpty {
            let line = lines.removeFirst()
            if line.isEmpty {
                body = Array(lines.joined(separator: "\n").utf8)
                break
            }
            if let first = line.first, first == " " || first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        return SigV4Signer.Request(method: method, path: path, query: query, headers: headers, body: body)
    }

    @Test func everySuiteCaseMatchesByteForByte() throws {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "service"
        )
        let cases = try Self.caseDirectories()
        #expect(cases.count >= 30, "the suite must be at \(Self.root.path)")
        var passed = 0
        for dir in cases {
            let name = dir.lastPathComponent
            func file(_ ext: String) throws -> String {
                var s = try String(contentsOf: dir.appendingPathComponent("\(name).\(ext)"), encoding: .utf8)
                if s.hasSuffix("\n") { s.removeLast() }
                return s
            }
            let request = Self.parse(try file("req"))
            let (canonical, _) = signer.canonicalRequest(request)
            let sts = signer.stringToSign(canonicalRequest: canonical, amzDate: "20150830T123600Z")
            let authz = signer.authorization(for: request, amzDate: "20150830T123600Z")
            let expectedCanonical = try file("creq")
            let expectedSTS = try file("sts")
            let expectedAuthz = try file("authz")
            let ok = canonical == expectedCanonical && sts == expectedSTS && authz == expectedAuthz
            if ok { passed += 1 } else { Issue.record("\(name): canonical request\n\(canonical)\n--- expected\n\(expectedCanonical)") }
        }
        print("aws-sigv4-test-suite: \(passed)/\(cases.count) cases passed")
        #expect(passed == cases.count)
    }

    @Test func signAddsDateTokenAndAuthorizationAndHidesTheSecret() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "SECRET", sessionToken: "TOKEN")
        var request = SigV4Signer.Request(method: "POST", path: "/model/m/converse", headers: [("Host", "bedrock-runtime.us-east-1.amazonaws.com")], body: Array("{}".utf8))
        SigV4Signer(credentials: credentials, region: "us-east-1", service: "bedrock").sign(&request, date: Date(timeIntervalSince1970: 1_440_938_160))
        let names = request.headers.map { $0.name.lowercased() }
        #expect(names.contains("x-amz-date") && names.contains("x-amz-security-token") && names.last == "authorization")
        #expect(request.headers.last?.value.contains("SignedHeaders=host;x-amz-date;x-amz-security-token") == true)
        #expect(!"\(credentials)".contains("SECRET"))
    }
}

/// The signer agrees byte for byte with botocore's `SigV4Auth` (installed on these machines)
/// on real Bedrock request shapes.
@Suite struct SigV4BotocoreTests {
    struct Shape {
        var path: String
        var body: String
        var token: String?
    }

    @Test func agreesWithBotocoreOnBedrockRequests() throws {
        let shapes = [
            Shape(path: "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",
                  body: #"{"messages":[{"role":"user","content":[{"text":"Hello ✓"}]}],"inferenceConfig":{"maxTokens":256}}"#),
            Shape(path: "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream",
                  body: #"{"messages":[],"toolConfig":{"tools":[{"toolSpec":{"name":"get_weather","inputSchema":{"json":{"type":"object"}}}}]}}"#,
                  token: "FQoGZXIvYXdzEXAMPLE//token+with/slashes=="),
            Shape(path: "/model/amazon.titan-embed-text-v2%3A0/invoke", body: #"{"inputText":"embed me"}"#),
            Shape(path: "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.meta.llama3-2-1b-instruct-v1%3A0/converse", body: "{}"),
        ]
        let host = "bedrock-runtime.us-east-1.amazonaws.com"
        let input: [[String: Any]] = shapes.map { s in
            ["method": "POST", "url": "https://\(host)\(s.path)", "body": s.body, "region": "us-east-1", "service": "bedrock",
             "headers": [["Content-Type", "application/json"], ["Accept", "application/json"]], "token": s.token as Any]
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/botocore_sigv4.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: input))
        try stdin.fileHandleForWriting.close()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 with botocore must be available (it is installed on these machines)")
        let expected = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: String]])
        #expect(expected.count == shapes.count)
        for (shape, botocore) in zip(shapes, expected) {
            let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: shape.token)
            let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "bedrock")
            var headers: [(name: String, value: String)] = [("Content-Type", "application/json"), ("Accept", "application/json"), ("Host", host), ("X-Amz-Date", "20150830T123600Z")]
            if let token = shape.token { headers.append(("X-Amz-Security-Token", token)) }
            let request = SigV4Signer.Request(method: "POST", path: shape.path, headers: headers, body: Array(shape.body.utf8))
            let (canonical, _) = signer.canonicalRequest(request)
            #expect(canonical == botocore["canonical"], "canonical request for \(shape.path)")
            let sts = signer.stringToSign(canonicalRequest: canonical, amzDate: "20150830T123600Z")
            #expect(sts == botocore["string_to_sign"])
            let authorization = signer.authorization(for: request, amzDate: "20150830T123600Z")
            #expect(authorization.hasSuffix("Signature=" + (botocore["signature"] ?? "?")), "signature for \(shape.path)")
        }
    }
}
