//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import Foundation
public import NIOHTTP1

/// What a provider said about its rate limits in one response's headers, in one form.
///
/// OpenAI sends `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` (resets as durations
/// such as `6m0s` or `20ms`); Anthropic sends `anthropic-ratelimit-{requests,tokens,
/// input-tokens,output-tokens}-{limit,remaining,reset}` (resets as RFC 3339 times); both may
/// send `retry-after` (seconds or an HTTP date) and OpenAI `retry-after-ms`.
public struct RateLimitState: Sendable, Hashable {
    /// One limited quantity.
    public struct Window: Sendable, Hashable {
        public var limit: Int?
        public var remaining: Int?
        /// When the window is full again.
        public var resetsAt: Date?

        public init(limit: Int? = nil, remaining: Int? = nil, resetsAt: Date? = nil) {
            self.limit = limit
            self.remaining = remaining
            self.resetsAt = resetsAt
        }

        var isEmpty: Bool { limit == nil && remaining == nil && resetsAt == nil }

        /// The fraction of the window still available, if known.
        public var remainingFraction: Double? {
            guard let limit, let remaining, limit > 0 else { return nil }
            return Double(remaining) / Double(limit)
        }
    }

    public var requests = Window()
    public var tokens = Window()
    public var inputTokens = Window()
    public var outputTokens = Window()
    /// How long the provider asked to wait before the next request.
    public var retryAfter: Duration?
    /// When these headers were read.
    public var observedAt: Date

    public init(observedAt: Date = Date()) {
        self.observedAt = observedAt
    }

    /// Whether the headers said anything about rate limits.
    public var isEmpty: Bool {
        requests.isEmpty && tokens.isEmpty && inputTokens.isEmpty && outputTokens.isEmpty && retryAfter == nil
    }

    /// Reads the rate-limit headers of a response received at `now`.
    public init(headers: HTTPHeaders, now: Date = Date()) {
        self.observedAt = now
        retryAfter = RateLimitState.retryAfter(headers, now: now)
        // OpenAI (and OpenAI-compatible servers).
        requests = Self.window(headers, "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", now)
        tokens = Self.window(headers, "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens", now)
        // Anthropic.
        let anthropic: [(String, WritableKeyPath<RateLimitState, Window>)] = [
            ("requests", \.requests), ("tokens", \.tokens), ("input-tokens", \.inputTokens), ("output-tokens", \.outputTokens),
        ]
        for (kind, path) in anthropic {
            let window = Self.window(
                headers,
                "anthropic-ratelimit-\(kind)-limit",
                "anthropic-ratelimit-\(kind)-remaining",
                "anthropic-ratelimit-\(kind)-reset",
                now
            )
            if !window.isEmpty { self[keyPath: path] = window }
        }
    }

    /// How long to hold the next request so as not to run into a 429: the provider's
    /// `retry-after` if it sent one, else the time until the first exhausted window resets.
    public func suggestedDelay(now: Date = Date()) -> Duration? {
        if let retryAfter {
            let elapsed = now.timeIntervalSince(observedAt)
            let left = retryAfter - .milliseconds(Int64(elapsed * 1000))
            return left > .zero ? left : nil
        }
        var latest: Date?
        for window in [requests, tokens, inputTokens, outputTokens] {
            guard let remaining = window.remaining, remaining <= 0, let reset = window.resetsAt else { continue }
            if latest.map({ reset > $0 }) ?? true { latest = reset }
        }
        guard let latest, latest > now else { return nil }
        return .milliseconds(Int64((latest.timeIntervalSince(now) * 1000).rounded(.up)))
    }

    private static func window(_ h: HTTPHeaders, _ limit: String, _ remaining: String, _ reset: String, _ now: Date) -> Window {
        Window(
            limit: h.first(name: limit).flatMap { Int($0.trimmingCharacters(in: .whitespaces)) },
            remaining: h.first(name: remaining).flatMap { Int($0.trimmingCharacters(in: .whitespaces)) },
            resetsAt: h.first(name: reset).flatMap { resetTime($0, now: now) }
        )
    }

    /// A reset given as a Go-style duration (`1s`, `6m0s`, `20ms`, `1h2m3.5s`), as seconds,
    /// or as an RFC 3339 time.
    static func resetTime(_ value: String, now: Date) -> Date? {
        let v = value.trimmingCharacters(in: .whitespaces)
        if let duration = goDuration(v) { return now.addingTimeInterval(duration) }
        if let seconds = Double(v) { return now.addingTimeInterval(seconds) }
        return rfc3339(v)
    }

    /// The `retry-after-ms`, `retry-after` (seconds or HTTP date) or
    /// `x-ratelimit-reset-after`-style header of a response, as a duration.
    public static func retryAfter(_ headers: HTTPHeaders, now: Date = Date()) -> Duration? {
        if let ms = headers.first(name: "retry-after-ms").flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }), ms >= 0 {
            return .milliseconds(Int64(ms.rounded(.up)))
        }
        guard let value = headers.first(name: "retry-after")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value), seconds >= 0 { return .milliseconds(Int64((seconds * 1000).rounded(.up))) }
        if let date = httpDate(value) {
            let seconds = max(0, date.timeIntervalSince(now))
            return .milliseconds(Int64((seconds * 1000).rounded(.up)))
        }
        return nil
    }

    /// Parses `1h2m3.5s`, `6m0s`, `20ms`, `1.5s`, `250us`; nil if not such a duration.
    static func goDuration(_ text: String) -> Double? {
        var total = 0.0
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let numberEnd = rest.firstIndex { !($0.isNumber || $0 == ".") } ?? rest.endIndex
            guard numberEnd != rest.startIndex, let number = Double(rest[..<numberEnd]) else { return nil }
            rest = rest[numberEnd...]
            let unitEnd = rest.firstIndex { $0.isNumber || $0 == "." } ?? rest.endIndex
            let unit = rest[..<unitEnd]
            rest = rest[unitEnd...]
            switch unit {
            case "h": total += number * 3600
            case "m": total += number * 60
            case "s": total += number
            case "ms": total += number / 1000
            case "us", "µs": total += number / 1_000_000
            case "ns": total += number / 1_000_000_000
            default: return nil
            }
        }
        return total
    }

    static func rfc3339(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withFraction.date(from: text) { return date }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return plain.date(from: text)
    }

    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
