//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Crypto
public import Foundation

/// AWS credentials. The secret never appears in errors or descriptions.
public struct AWSCredentials: Sendable, CustomStringConvertible, CustomReflectable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String { "AWSCredentials(\(accessKeyID), secret redacted)" }

    /// What `dump` and debuggers show: the key id only.
    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID, "secretAccessKey": "[redacted]", "sessionToken": sessionToken == nil ? "none" : "[redacted]"], displayStyle: .struct)
    }
}

/// AWS Signature Version 4 (header signing), as botocore's `SigV4Auth` does it.
///
/// Paths are given as they appear in the request line and encoded once more for the canonical
/// URI (what AWS expects of every service but S3), after dot segments and repeated slashes are
/// removed.
public struct SigV4Signer: Sendable {
    /// A request to sign.
    public struct Request: Sendable {
        public var method: String
        /// The path as in the request line.
        public var path: String
        /// The query string without `?`.
        public var query: String
        /// Headers in order; a name may repeat.
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)], body: [UInt8] = []) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }
    }

    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    public static func amzDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// Signs `request` at `date`: adds `X-Amz-Date` (unless present), `X-Amz-Security-Token`
    /// (with session credentials) and `Authorization`.
    public func sign(_ request: inout Request, date: Date) {
        let amzDate = Self.amzDate(date)
        if !request.headers.contains(where: { $0.name.lowercased() == "x-amz-date" }) {
            request.headers.append((name: "X-Amz-Date", value: amzDate))
        }
        if let token = credentials.sessionToken, !request.headers.contains(where: { $0.name.lowercased() == "x-amz-security-token" }) {
            request.headers.append((name: "X-Amz-Security-Token", value: token))
        }
        request.headers.append((name: "Authorization", value: authorization(for: request, amzDate: amzDate)))
    }

    /// The `Authorization` header value for `request` signed at `amzDate`.
    public func authorization(for request: Request, amzDate: String) -> String {
        let (canonical, signedHeaders) = canonicalRequest(request)
        let scope = "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
        let toSign = stringToSign(canonicalRequest: canonical, amzDate: amzDate)
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: signingKey(day: String(amzDate.prefix(8)))))
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    /// Task 2: the string to sign.
    public func stringToSign(canonicalRequest: String, amzDate: String) -> String {
        let scope = "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
        return "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n" + Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8)))
    }

    func signingKey(day: String) -> SymmetricKey {
        func hmac(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
            SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)))
        }
        let kDate = hmac(SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey).utf8)), day)
        return hmac(hmac(hmac(kDate, region), service), "aws4_request")
    }

    /// Task 1: the canonical request and the signed-header list.
    public func canonicalRequest(_ request: Request) -> (String, signedHeaders: String) {
        var byName: [String: [String]] = [:]
        for (name, value) in request.headers where name.lowercased() != "authorization" {
            byName[name.lowercased(), default: []].append(Self.trimAll(value))
        }
        let names = byName.keys.sorted()
        let headerLines = names.map { "\($0):\(byName[$0, default: []].joined(separator: ","))" }
        let signed = names.joined(separator: ";")
        let parts = [
            request.method.uppercased(),
            Self.canonicalURI(request.path),
            Self.canonicalQuery(request.query),
            headerLines.joined(separator: "\n") + "\n",
            signed,
            Self.hex(SHA256.hash(data: Data(request.body))),
        ]
        return (parts.joined(separator: "\n"), signed)
    }

    /// Trims and collapses runs of spaces; the lines of a folded (multi-line) value are
    /// joined with commas, as the AWS suite specifies.
    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }
            .filter { !$0.isEmpty }
            .joined(separator: ",")
    }

    static func canonicalURI(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                if !segments.isEmpty { segments.removeLast() }
                continue
            }
            segments.append(segment)
        }
        var out = "/" + segments.map { encode(String($0)) }.joined(separator: "/")
        if path.hasSuffix("/"), out != "/" { out += "/" }
        return out
    }

    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { item -> (String, String) in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            let value = parts.count > 1 ? String(parts[1]) : ""
            return (encode(name.removingPercentEncoding ?? name), encode(value.removingPercentEncoding ?? value))
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0)=\($1)" }.joined(separator: "&")
    }

    /// AWS URI encoding: unreserved characters kept, every other byte as `%XX`.
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
