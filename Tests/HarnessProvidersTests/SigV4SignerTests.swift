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
