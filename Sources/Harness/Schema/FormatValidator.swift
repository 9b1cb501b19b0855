//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// The `format` vocabulary of JSON Schema 2020-12 (Validation §7.3) and draft-07 (§7.3).
// Every check is a pure syntax check written against the cited RFC grammar; none of them
// touches the network or needs Foundation, and all of them are linear in the input size
// (the regular-expression checker bounds its nesting depth so it cannot exhaust the stack).

/// Checks the `format` keyword's formats.
package enum FormatValidator {
    /// The formats this validator knows.
    package static let knownFormats: Set<String> = [
        "date-time", "date", "time", "duration",
        "email", "idn-email", "hostname", "idn-hostname", "ipv4", "ipv6",
        "uri", "uri-reference", "iri", "iri-reference", "uri-template",
        "json-pointer", "relative-json-pointer", "regex", "uuid",
    ]

    /// Whether `value` is valid for `format`; `nil` when the format is unknown (unknown formats are ignored, as the spec says).
    package static func isValid(_ value: String, format: String) -> Bool? {
        switch format {
        case "date-time": return isDateTime(Array(value.utf8))
        case "date": return isDate(Array(value.utf8))
        case "time": return isTime(Array(value.utf8))
        case "duration": return isDuration(Array(value.utf8))
        case "email": return isEmail(value, international: false)
        case "idn-email": return isEmail(value, international: true)
        case "hostname": return isDomain(value, international: false)
        case "idn-hostname": return isDomain(value, international: true)
        case "ipv4": return isIPv4(value.utf8)
        case "ipv6": return isIPv6(value.utf8)
        case "uri": return isURI(value, iri: false, requireScheme: true)
        case "uri-reference": return isURI(value, iri: false, requireScheme: false)
        case "iri": return isURI(value, iri: true, requireScheme: true)
        case "iri-reference": return isURI(value, iri: true, requireScheme: false)
        case "uri-template": return isURITemplate(value)
        case "json-pointer": return isJSONPointer(value.utf8)
        case "relative-json-pointer": return isRelativeJSONPointer(value)
        case "regex": return ECMAScriptPatternChecker.isValid(value)
        case "uuid": return isUUID(value)
        default: return nil
        }
    }
}

// MARK: - Character helpers

private func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
private func isHexDigit(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x66) }
private func isAlpha(_ c: UInt8) -> Bool { c | 0x20 >= 0x61 && c | 0x20 <= 0x7A }

private func asciiByte(_ c: Unicode.Scalar) -> UInt8? { c.isASCII ? UInt8(c.value) : nil }
private func isDigit(_ c: Unicode.Scalar) -> Bool { asciiByte(c).map(isDigit) ?? false }
private func isHexDigit(_ c: Unicode.Scalar) -> Bool { asciiByte(c).map(isHexDigit) ?? false }
private func isAlpha(_ c: Unicode.Scalar) -> Bool { asciiByte(c).map(isAlpha) ?? false }

private func contains(_ set: String, _ c: Unicode.Scalar) -> Bool { set.unicodeScalars.contains(c) }

/// RFC 3987 §2.2 `ucschar`: the non-ASCII characters an IRI may contain unescaped.
private func isUCSChar(_ c: Unicode.Scalar) -> Bool {
    let v = c.value
    switch v {
    case 0xA0...0xD7FF, 0xF900...0xFDCF, 0xFDF0...0xFFEF: return true
    case 0xE1000...0xEFFFD: return true
    case 0x10000...0xDFFFF: return v & 0xFFFF <= 0xFFFD  // planes 1-13, minus the noncharacters
    default: return false
    }
}

/// RFC 3987 §2.2 `iprivate`, allowed only in queries.
private func isIPrivate(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0xE000...0xF8FF, 0xF0000...0xFFFFD, 0x100000...0x10FFFD: return true
    default: return false
    }
}

/// Whether `s` consists of RFC 3986 §2.1 `pct-encoded` triplets and characters satisfying `isAllowed`.
private func isPercentEncodedText(_ s: ArraySlice<Unicode.Scalar>, _ isAllowed: (Unicode.Scalar) -> Bool) -> Bool {
    var i = s.startIndex
    while i < s.endIndex {
        if s[i] == "%" {
            guard i + 2 < s.endIndex, isHexDigit(s[i + 1]), isHexDigit(s[i + 2]) else { return false }
            i += 3
        } else {
            guard isAllowed(s[i]) else { return false }
            i += 1
        }
    }
    return true
}

// MARK: - Dates and times (RFC 3339 §5.6)

extension FormatValidator {
    /// The value of the `count` ASCII digits at `start`, or `nil`.
    private static func number(_ b: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard start + count <= b.count else { return nil }
        var n = 0
        for c in b[start..<(start + count)] {
            guard isDigit(c) else { return nil }
            n = n * 10 + Int(c - 0x30)
        }
        return n
    }

    /// `full-date = date-fullyear "-" date-month "-" date-mday`, with §5.7's day limits.
    static func isDate(_ b: [UInt8]) -> Bool {
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let year = number(b, 0, 4), let month = number(b, 5, 2), let day = number(b, 8, 2),
            (1...12).contains(month)
        else { return false }
        let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = switch month {
        case 2: isLeap ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
        return (1...days).contains(day)
    }

    /// `full-time = partial-time time-offset`. A leap second (`:60`) is only accepted when
    /// the time, normalised to UTC, is 23:59:60 (§5.7).
    static func isTime(_ b: [UInt8]) -> Bool {
        guard b.count >= 9, b[2] == UInt8(ascii: ":"), b[5] == UInt8(ascii: ":"),
            let hour = number(b, 0, 2), let minute = number(b, 3, 2), let second = number(b, 6, 2),
            hour <= 23, minute <= 59, second <= 60
        else { return false }
        var i = 8
        if b[i] == UInt8(ascii: ".") {  // time-secfrac = "." 1*DIGIT
            i += 1
            let start = i
            while i < b.count, isDigit(b[i]) { i += 1 }
            guard i > start, i < b.count else { return false }
        }
        var offset = 0  // minutes east of UTC
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard i + 1 == b.count else { return false }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):  // time-numoffset = ("+" / "-") time-hour ":" time-minute
            guard i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"),
                let hours = number(b, i + 1, 2), let minutes = number(b, i + 4, 2), hours <= 23, minutes <= 59
            else { return false }
            offset = (hours * 60 + minutes) * (b[i] == UInt8(ascii: "+") ? 1 : -1)
        default:
            return false
        }
        guard second == 60 else { return true }
        let utcMinute = ((hour * 60 + minute - offset) % 1440 + 1440) % 1440
        return utcMinute == 23 * 60 + 59
    }

    /// `date-time = full-date "T" full-time` (T and Z are case-insensitive, §5.6 note).
    static func isDateTime(_ b: [UInt8]) -> Bool {
        guard b.count > 11, b[10] | 0x20 == UInt8(ascii: "t") else { return false }
        return isDate(Array(b[..<10])) && isTime(Array(b[11...]))
    }

    /// RFC 3339 Appendix A: `duration = "P" (dur-date / dur-time / dur-week)`.
    static func isDuration(_ b: [UInt8]) -> Bool {
        guard b.first == UInt8(ascii: "P") else { return false }
        let body = b.dropFirst()
        let separator = body.firstIndex(of: UInt8(ascii: "T"))
        let datePart = body[..<(separator ?? body.endIndex)]
        if datePart.last == UInt8(ascii: "W") {  // dur-week stands alone
            return separator == nil && durationUnits(datePart, order: "W") == [0]
        }
        guard let dateUnits = durationUnits(datePart, order: "YMD"), areConsecutive(dateUnits) else { return false }
        guard let separator else { return !dateUnits.isEmpty }
        guard let timeUnits = durationUnits(body[(separator + 1)...], order: "HMS") else { return false }
        return !timeUnits.isEmpty && areConsecutive(timeUnits)
    }

    /// Splits `1*DIGIT unit` elements, giving each unit's position in `order`; `nil` if malformed.
    private static func durationUnits(_ s: ArraySlice<UInt8>, order: String) -> [Int]? {
        var units: [Int] = []
        var sawDigit = false
        for c in s {
            if isDigit(c) {
                sawDigit = true
            } else {
                guard sawDigit, let unit = Array(order.utf8).firstIndex(of: c) else { return nil }
                units.append(unit)
                sawDigit = false
            }
        }
        return sawDigit ? nil : units
    }

    /// Units must be adjacent and in order: `dur-year` may only be followed by `dur-month`, etc.
    private static func areConsecutive(_ units: [Int]) -> Bool {
        zip(units, units.dropFirst()).allSatisfy { $1 == $0 + 1 }
    }
}

// MARK: - E-mail addresses (RFC 5321 §4.1.2, RFC 6531 §3.3)

extension FormatValidator {
    /// `Mailbox = Local-part "@" ( Domain / address-literal )`; `international` admits
    /// UTF-8 in the local part and IDNA host names (RFC 6531).
    static func isEmail(_ value: String, international: Bool) -> Bool {
        let s = Array(value.unicodeScalars)
        guard let end = localPartEnd(s, international: international), end < s.count, s[end] == "@",
            String(String.UnicodeScalarView(s[..<end])).utf8.count <= 64  // §4.5.3.1.1
        else { return false }
        let domain = s[(end + 1)...]
        if domain.first == "[" {
            guard domain.last == "]", domain.count > 2 else { return false }
            return isAddressLiteral(String(String.UnicodeScalarView(domain.dropFirst().dropLast())))
        }
        return isDomain(String(String.UnicodeScalarView(domain)), international: international)
    }

    /// The index just past `Local-part = Dot-string / Quoted-string`, or `nil`.
    private static func localPartEnd(_ s: [Unicode.Scalar], international: Bool) -> Int? {
        if s.first == "\"" {
            var i = 1
            while i < s.count {
                let c = s[i]
                if c == "\"" { return i + 1 }
                if c == "\\" {  // quoted-pairSMTP = %d92 %d32-126
                    guard i + 1 < s.count, (32...126).contains(s[i + 1].value) else { return nil }
                    i += 2
                    continue
                }
                // qtextSMTP = %d32-33 / %d35-91 / %d93-126 (RFC 6531 adds UTF8-non-ascii)
                guard (32...126).contains(c.value) || (international && !c.isASCII) else { return nil }
                i += 1
            }
            return nil
        }
        // Dot-string = Atom *("." Atom); atext per RFC 5322 §3.2.3
        let end = s.firstIndex(of: "@") ?? s.count
        let atoms = s[..<end].split(separator: ".", omittingEmptySubsequences: false)
        let isAtext: (Unicode.Scalar) -> Bool = {
            isAlpha($0) || isDigit($0) || contains("!#$%&'*+-/=?^_`{|}~", $0) || (international && !$0.isASCII)
        }
        return atoms.allSatisfy { !$0.isEmpty && $0.allSatisfy(isAtext) } ? end : nil
    }

    /// RFC 5321 §4.1.3: `IPv4-address-literal / IPv6-address-literal`.
    private static func isAddressLiteral(_ s: String) -> Bool {
        if isIPv4(s.utf8) { return true }
        let tag = s.utf8.prefix(5)
        return tag.count == 5 && String(decoding: tag, as: UTF8.self).lowercased() == "ipv6:" && isIPv6(s.utf8.dropFirst(5))
    }
}

// MARK: - IP addresses

extension FormatValidator {
    /// RFC 2673 §3.2 dotted-quad, using RFC 3986 §3.2.2 `dec-octet` (no leading zeros).
    static func isIPv4<C: Collection<UInt8>>(_ s: C) -> Bool {
        let parts = s.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            guard (1...3).contains(part.count), part.allSatisfy(isDigit),
                part.count == 1 || part.first != UInt8(ascii: "0")
            else { return false }
            return part.reduce(0) { $0 * 10 + Int($1 - 0x30) } <= 255
        }
    }

    /// RFC 4291 §2.2 text forms: eight `h16` groups, at most one `::`, optionally ending in an IPv4 address.
    static func isIPv6<C: Collection<UInt8>>(_ s: C) -> Bool {
        let b = Array(s)
        guard b.count <= 45 else { return false }
        let colon = UInt8(ascii: ":")
        guard let gap = b.indices.dropLast().first(where: { b[$0] == colon && b[$0 + 1] == colon }) else {
            return groupCount(b[...], mayEndWithIPv4: true) == 8
        }
        let tail = b[(gap + 2)...]
        guard let head = groupCount(b[..<gap], mayEndWithIPv4: false),
            let rest = groupCount(tail, mayEndWithIPv4: true)
        else { return false }
        return head + rest <= 7
    }

    /// The number of 16-bit pieces in a `:`-separated run of `h16`s, or `nil` if malformed.
    private static func groupCount(_ s: ArraySlice<UInt8>, mayEndWithIPv4: Bool) -> Int? {
        guard !s.isEmpty else { return 0 }
        let groups = s.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        var count = 0
        for (index, group) in groups.enumerated() {
            if mayEndWithIPv4, index == groups.count - 1, group.contains(UInt8(ascii: ".")) {
                guard isIPv4(group) else { return nil }
                count += 2
            } else {
                guard (1...4).contains(group.count), group.allSatisfy(isHexDigit) else { return nil }
                count += 1
            }
        }
        return count
    }
}

// MARK: - URIs and IRIs (RFC 3986 §3-4, RFC 3987 §2.2)

extension FormatValidator {
    /// `URI` / `URI-reference` (or `IRI` / `IRI-reference` when `iri` is set).
    static func isURI(_ value: String, iri: Bool, requireScheme: Bool) -> Bool {
        var rest = Array(value.unicodeScalars)[...]
        if let hash = rest.firstIndex(of: "#") {  // fragment = *( pchar / "/" / "?" )
            guard isURIText(rest[(hash + 1)...], extra: ":@/?", iri: iri, privateUse: false) else { return false }
            rest = rest[..<hash]
        }
        if let question = rest.firstIndex(of: "?") {  // query = *( pchar / "/" / "?" ), plus iprivate
            guard isURIText(rest[(question + 1)...], extra: ":@/?", iri: iri, privateUse: true) else { return false }
            rest = rest[..<question]
        }
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ); a relative reference's first
        // segment may not contain ":" (path-noscheme), so any ":" before a "/" ends a scheme.
        let firstSlash = rest.firstIndex(of: "/") ?? rest.endIndex
        if let colon = rest[..<firstSlash].firstIndex(of: ":") {
            let scheme = rest[..<colon]
            guard let first = scheme.first, isAlpha(first),
                scheme.allSatisfy({ isAlpha($0) || isDigit($0) || contains("+-.", $0) })
            else { return false }
            rest = rest[(colon + 1)...]
        } else if requireScheme {
            return false
        }
        if rest.starts(with: ["/", "/"]) {  // "//" authority path-abempty
            let authorityStart = rest.startIndex + 2
            let authorityEnd = rest[authorityStart...].firstIndex(of: "/") ?? rest.endIndex
            guard isAuthority(rest[authorityStart..<authorityEnd], iri: iri) else { return false }
            rest = rest[authorityEnd...]
        }
        return isURIText(rest, extra: ":@/", iri: iri, privateUse: false)  // segments of pchar
    }

    /// Whether every character is unreserved, a sub-delim, percent-encoded, or in `extra`.
    private static func isURIText(
        _ s: ArraySlice<Unicode.Scalar>, extra: String, iri: Bool, privateUse: Bool
    ) -> Bool {
        isPercentEncodedText(s) { c in
            // unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"; sub-delims = "!$&'()*+,;="
            c.isASCII
                ? isAlpha(c) || isDigit(c) || contains("-._~!$&'()*+,;=", c) || contains(extra, c)
                : iri && (isUCSChar(c) || (privateUse && isIPrivate(c)))
        }
    }

    /// `authority = [ userinfo "@" ] host [ ":" port ]` (§3.2).
    private static func isAuthority(_ a: ArraySlice<Unicode.Scalar>, iri: Bool) -> Bool {
        var hostAndPort = a
        if let at = a.firstIndex(of: "@") {  // userinfo = *( unreserved / pct-encoded / sub-delims / ":" )
            guard isURIText(a[..<at], extra: ":", iri: iri, privateUse: false) else { return false }
            hostAndPort = a[(at + 1)...]
        }
        let port: ArraySlice<Unicode.Scalar>
        if hostAndPort.first == "[" {  // IP-literal = "[" ( IPv6address / IPvFuture ) "]"
            guard let close = hostAndPort.firstIndex(of: "]"),
                isIPLiteral(hostAndPort[(hostAndPort.startIndex + 1)..<close])
            else { return false }
            port = hostAndPort[(close + 1)...]
        } else {  // reg-name = *( unreserved / pct-encoded / sub-delims ); covers IPv4address
            let colon = hostAndPort.firstIndex(of: ":") ?? hostAndPort.endIndex
            guard isURIText(hostAndPort[..<colon], extra: "", iri: iri, privateUse: false) else { return false }
            port = hostAndPort[colon...]
        }
        // port = *DIGIT, after a ":"
        return port.isEmpty || (port.first == ":" && port.dropFirst().allSatisfy(isDigit))
    }

    /// `IPv6address / IPvFuture`, where `IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )`.
    private static func isIPLiteral(_ s: ArraySlice<Unicode.Scalar>) -> Bool {
        guard s.first == "v" || s.first == "V" else {
            return s.allSatisfy(\.isASCII) && isIPv6(s.map { UInt8($0.value) })
        }
        guard let dot = s.firstIndex(of: ".") else { return false }
        let version = s[(s.startIndex + 1)..<dot]
        let address = s[(dot + 1)...]
        return !version.isEmpty && version.allSatisfy(isHexDigit) && !address.isEmpty
            && !address.contains("%") && isURIText(address, extra: ":", iri: false, privateUse: false)
    }
}

// MARK: - URI templates (RFC 6570 §2)

extension FormatValidator {
    /// `URI-Template = *( literals / expression )`.
    static func isURITemplate(_ value: String) -> Bool {
        var rest = Array(value.unicodeScalars)[...]
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}"), isPercentEncodedText(rest[..<open], isTemplateLiteral),
                isExpression(rest[(open + 1)..<close])
            else { return false }
            rest = rest[(close + 1)...]
        }
        return isPercentEncodedText(rest, isTemplateLiteral)
    }

    /// §2.1 `literals`. The apostrophe (%x27) is accepted too, as the §1.5 prose and the
    /// test suite expect; the ABNF's omission of it is generally read as an oversight.
    private static func isTemplateLiteral(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x21, 0x23, 0x24, 0x26...0x3B, 0x3D, 0x3F...0x5B, 0x5D, 0x5F, 0x61...0x7A, 0x7E: return true
        default: return isUCSChar(c) || isIPrivate(c)
        }
    }

    /// §2.2 `expression = "{" [ operator ] variable-list "}"` (braces already removed).
    private static func isExpression(_ e: ArraySlice<Unicode.Scalar>) -> Bool {
        var list = e
        if let first = list.first, contains("+#./;?&=,!@|", first) { list = list.dropFirst() }
        return !list.isEmpty && list.split(separator: ",", omittingEmptySubsequences: false).allSatisfy(isVarspec)
    }

    /// §2.3-2.4 `varspec = varname [ modifier-level4 ]`.
    private static func isVarspec(_ v: ArraySlice<Unicode.Scalar>) -> Bool {
        var name = v
        if v.last == "*" {  // explode
            name = v.dropLast()
        } else if let colon = v.firstIndex(of: ":") {  // prefix = ":" max-length, max-length = %x31-39 0*3DIGIT
            let length = v[(colon + 1)...]
            guard (1...4).contains(length.count), length.allSatisfy(isDigit), length.first != "0" else { return false }
            name = v[..<colon]
        }
        // varname = varchar *( ["."] varchar ); varchar = ALPHA / DIGIT / "_" / pct-encoded
        guard !name.isEmpty, name.first != ".", name.last != ".",
            !zip(name, name.dropFirst()).contains(where: { $0 == "." && $1 == "." })
        else { return false }
        return isPercentEncodedText(name) { isAlpha($0) || isDigit($0) || $0 == "_" || $0 == "." }
    }
}

// MARK: - JSON pointers, UUIDs

extension FormatValidator {
    /// RFC 6901 §3: `json-pointer = *( "/" reference-token )`, where "~" must start "~0" or "~1".
    static func isJSONPointer<C: BidirectionalCollection<UInt8>>(_ s: C) -> Bool {
        let tilde = UInt8(ascii: "~")
        return s.isEmpty
            || (s.first == UInt8(ascii: "/") && s.last != tilde
                && !zip(s, s.dropFirst()).contains { $0 == tilde && $1 != UInt8(ascii: "0") && $1 != UInt8(ascii: "1") })
    }

    /// Relative JSON Pointer §3: `non-negative-integer ( "#" / json-pointer )`.
    static func isRelativeJSONPointer(_ value: String) -> Bool {
        let b = Array(value.utf8)
        let digits = b.prefix(while: isDigit)
        guard !digits.isEmpty, digits.count == 1 || digits.first != UInt8(ascii: "0") else { return false }
        let rest = b[digits.count...]
        return rest.elementsEqual([UInt8(ascii: "#")]) || isJSONPointer(rest)
    }

    /// RFC 4122 §3 (RFC 9562 §4): `8-4-4-4-12` hex digits, any version and variant.
    static func isUUID(_ value: String) -> Bool {
        let b = Array(value.utf8)
        guard b.count == 36 else { return false }
        return b.indices.allSatisfy { i in
            [8, 13, 18, 23].contains(i) ? b[i] == UInt8(ascii: "-") : isHexDigit(b[i])
        }
    }
}

// MARK: - Host names (RFC 1123 §2.1; IDNA2008: RFC 5890, 5891, 5892, 5893)

extension FormatValidator {
    /// A domain name: labels of at most 63 octets, at most 253 octets in all (in ASCII form).
    /// Labels are NR-LDH labels, A-labels (`xn--`, decoded and checked as U-labels) or, when
    /// `international`, U-labels; the label separators of RFC 3490 §3.1 are then accepted too.
    /// `hostname` (ASCII only) keeps RFC 1123's leniency for other labels with "--" at 3-4.
    static func isDomain(_ value: String, international: Bool) -> Bool {
        // Every scalar costs at least one octet in the ASCII form, so this bounds all later work.
        guard value.utf8.count <= 253 * 4, international || value.utf8.allSatisfy({ $0 < 0x80 }) else { return false }
        let scalars = Array(value.unicodeScalars)
        guard !scalars.isEmpty, scalars.count <= 253 else { return false }
        let separators: Set<Unicode.Scalar> = international ? [".", "\u{3002}", "\u{FF0E}", "\u{FF61}"] : ["."]
        let labels = scalars.split(omittingEmptySubsequences: false, whereSeparator: separators.contains)
        var unicodeLabels: [[Unicode.Scalar]] = []
        var length = labels.count - 1
        for label in labels {
            guard let (unicode, asciiLength) = checkLabel(Array(label), reservedLDHInvalid: international) else {
                return false
            }
            unicodeLabels.append(unicode)
            length += asciiLength
        }
        guard length <= 253 else { return false }
        // RFC 5893 §1.4, §2: in a Bidi domain name, every label must satisfy the Bidi rule.
        let isBidiDomain = unicodeLabels.contains { $0.contains { [.r, .al, .an].contains(bidiClass($0)) } }
        return !isBidiDomain || unicodeLabels.allSatisfy(satisfiesBidiRule)
    }

    /// Checks one label, returning its U-label form and the length of its A-label (ASCII) form.
    private static func checkLabel(
        _ label: [Unicode.Scalar], reservedLDHInvalid: Bool
    ) -> (unicode: [Unicode.Scalar], asciiLength: Int)? {
        // ASCII is case-insensitive in domain names (RFC 4343), so fold it first.
        let label = label.map { c in isAlpha(c) ? Unicode.Scalar(UInt8(c.value) | 0x20) : c }
        guard !label.isEmpty else { return nil }
        guard label.allSatisfy(\.isASCII) else {
            // A U-label: the "xn--" form may be at most 63 octets (RFC 5890 §2.3.2.1).
            guard label.count <= 59, isValidULabel(label) else { return nil }
            let encoded = Punycode.encode(label)
            return encoded.count + 4 <= 63 ? (label, encoded.count + 4) : nil
        }
        // LDH label (RFC 1123 §2.1, RFC 952): letters, digits, hyphens; no hyphen at either end.
        guard label.count <= 63, label.first != "-", label.last != "-",
            label.allSatisfy({ isAlpha($0) || isDigit($0) || $0 == "-" })
        else { return nil }
        guard label.count >= 4, label[2] == "-", label[3] == "-" else { return (label, label.count) }
        guard label[0] == "x", label[1] == "n" else { return reservedLDHInvalid ? nil : (label, label.count) }
        // An A-label must decode to a valid U-label that encodes back to it (RFC 5891 §5.3-5.4).
        let encoded = label[4...]
        guard let decoded = Punycode.decode(encoded), decoded.contains(where: { !$0.isASCII }),
            Punycode.encode(decoded).elementsEqual(encoded), isValidULabel(decoded)
        else { return nil }
        return (decoded, label.count)
    }

    /// RFC 5891 §5.4: hyphen restrictions, no leading combining mark, and every code point
    /// PVALID or allowed by its contextual rule (RFC 5892 Appendix A).
    private static func isValidULabel(_ label: [Unicode.Scalar]) -> Bool {
        guard let first = label.first, !isCombiningMark(first), first != "-", label.last != "-" else { return false }
        if label.count >= 4, label[2] == "-", label[3] == "-" { return false }
        return label.indices.allSatisfy { i in
            switch idnaProperty(label[i]) {
            case .pvalid: return true
            case .contextual: return contextualRuleHolds(label, at: i)
            case .disallowed: return false
            }
        }
    }

    private enum IDNAProperty { case pvalid, contextual, disallowed }

    /// The RFC 5892 §3 derivation, using the standard library's Unicode properties.
    private static func idnaProperty(_ c: Unicode.Scalar) -> IDNAProperty {
        switch c.value {
        case 0xDF, 0x3C2, 0x6FD, 0x6FE, 0xF0B, 0x3007: return .pvalid  // §2.6 Exceptions
        case 0xB7, 0x375, 0x5F3, 0x5F4, 0x30FB, 0x660...0x669, 0x6F0...0x6F9: return .contextual  // CONTEXTO
        case 0x640, 0x7FA, 0x302E, 0x302F, 0x3031...0x3035, 0x303B: return .disallowed
        case 0x200C, 0x200D: return .contextual  // §2.8 JoinControl: CONTEXTJ
        case 0x2D, 0x30...0x39, 0x61...0x7A: return .pvalid  // §2.10 LDH
        case 0x20D0...0x20FF, 0x1D100...0x1D24F: return .disallowed  // §2.5 IgnorableBlocks
        case 0x1100...0x11FF, 0xA960...0xA97F, 0xD7B0...0xD7FF: return .disallowed  // §2.9 OldHangulJamo
        default: break
        }
        let p = c.properties
        // §2.11 Unassigned, §2.2 Unstable, §2.3 IgnorableProperties
        if p.generalCategory == .unassigned || p.changesWhenNFKCCaseFolded || p.isDefaultIgnorableCodePoint
            || p.isWhitespace || p.isNoncharacterCodePoint
        {
            return .disallowed
        }
        switch p.generalCategory {  // §2.1 LetterDigits
        case .lowercaseLetter, .uppercaseLetter, .otherLetter, .decimalNumber, .modifierLetter,
            .nonspacingMark, .spacingMark:
            return .pvalid
        default:
            return .disallowed
        }
    }

    /// RFC 5892 Appendix A, rules A.1-A.9.
    private static func contextualRuleHolds(_ label: [Unicode.Scalar], at i: Int) -> Bool {
        let before = i > 0 ? label[i - 1] : nil
        let after = i + 1 < label.count ? label[i + 1] : nil
        let isVirama = before?.properties.canonicalCombiningClass.rawValue == 9
        switch label[i].value {
        case 0x200C: return isVirama || isBetweenJoiningLetters(label, at: i)  // A.1 ZERO WIDTH NON-JOINER
        case 0x200D: return isVirama  // A.2 ZERO WIDTH JOINER
        case 0xB7: return before == "l" && after == "l"  // A.3 MIDDLE DOT
        case 0x375: return after.map(isGreek) ?? false  // A.4 GREEK LOWER NUMERAL SIGN (KERAIA)
        case 0x5F3, 0x5F4: return before.map(isHebrew) ?? false  // A.5-A.6 GERESH, GERSHAYIM
        case 0x30FB: return label.contains(where: isHiraganaKatakanaOrHan)  // A.7 KATAKANA MIDDLE DOT
        case 0x660...0x669: return !label.contains { (0x6F0...0x6F9).contains($0.value) }  // A.8
        case 0x6F0...0x6F9: return !label.contains { (0x660...0x669).contains($0.value) }  // A.9
        default: return false
        }
    }

    /// A.1's regular expression:
    /// `(Joining_Type:{L,D})(Joining_Type:T)*\u200C(Joining_Type:T)*(Joining_Type:{R,D})`.
    private static func isBetweenJoiningLetters(_ label: [Unicode.Scalar], at i: Int) -> Bool {
        let left = label[..<i].last { joiningType($0) != .transparent }
        let right = label[(i + 1)...].first { joiningType($0) != .transparent }
        return left.map { [.dual, .left].contains(joiningType($0)) } == true
            && right.map { [.dual, .right].contains(joiningType($0)) } == true
    }

    private enum JoiningType { case dual, left, right, transparent, none }

    /// An approximation of Unicode's Joining_Type (ArabicShaping.txt): marks and format
    /// characters are transparent; letters of the Arabic, Syriac, N'Ko, Mandaic, Mongolian,
    /// Phags-pa, Hanifi Rohingya and Adlam blocks are dual-joining except those listed.
    private static func joiningType(_ c: Unicode.Scalar) -> JoiningType {
        if c == "\u{200C}" || c == "\u{200D}" { return .none }
        switch c.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return .transparent
        case .otherLetter, .modifierLetter: break
        default: return .none
        }
        switch c.value {
        case 0x621, 0x674, 0x6E5, 0x6E6, 0x861, 0x866, 0x8AD, 0x8C9: return .none
        case 0xA872, 0x10ACD, 0x10AD7, 0x10D00: return .left
        case 0x622...0x625, 0x627, 0x629, 0x62F...0x632, 0x648, 0x671...0x673, 0x688...0x699, 0x6C0, 0x6C3...0x6CB,
            0x6CD, 0x6CF, 0x6D2, 0x6D3, 0x6D5, 0x6EE, 0x6EF, 0x710, 0x715...0x719, 0x71E, 0x728, 0x72A, 0x72C, 0x72F,
            0x74D, 0x759...0x75B, 0x76B, 0x76C, 0x771, 0x773, 0x774, 0x778, 0x779, 0x840, 0x846, 0x847, 0x849, 0x854,
            0x856...0x858, 0x867, 0x869...0x882, 0x88E, 0x8AA...0x8AC, 0x8AE, 0x8B1, 0x8B2, 0x8B9, 0x10D22:
            return .right
        case 0x620...0x6FF, 0x710...0x77F, 0x7CA...0x7EA, 0x841...0x88F, 0x8A0...0x8C9, 0x1820...0x1878,
            0x1887...0x18AA, 0xA840...0xA871, 0x10D01...0x10D23, 0x1E922...0x1E943:
            return .dual
        default: return .none
        }
    }

    private static func isCombiningMark(_ c: Unicode.Scalar) -> Bool {
        [.nonspacingMark, .spacingMark, .enclosingMark].contains(c.properties.generalCategory)
    }

    // Script membership for the contextual rules, by block ranges.
    private static func isGreek(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x370...0x373, 0x375...0x377, 0x37A...0x37D, 0x37F, 0x384, 0x386, 0x388...0x3E1, 0x3F0...0x3FF,
            0x1D26...0x1D2A, 0x1F00...0x1FFE, 0x10140...0x1018E:
            return true
        default: return false
        }
    }

    private static func isHebrew(_ c: Unicode.Scalar) -> Bool {
        (0x591...0x5F4).contains(c.value) || (0xFB1D...0xFB4F).contains(c.value)
    }

    private static func isHiraganaKatakanaOrHan(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x3041...0x3096, 0x309D...0x309F, 0x1B001...0x1B11F, 0x1F200: return true  // Hiragana
        case 0x30A1...0x30FA, 0x30FD...0x30FF, 0x31F0...0x31FF, 0x32D0...0x32FE, 0x3300...0x3357,
            0xFF66...0xFF6F, 0xFF71...0xFF9D, 0x1B000:
            return true  // Katakana
        case 0x2E80...0x2FD5, 0x3005, 0x3007, 0x3021...0x3029, 0x3038...0x303B, 0x3400...0x4DBF,
            0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x323AF:
            return true  // Han
        default: return false
        }
    }

    /// The Bidi classes RFC 5893 distinguishes; `other` stands for ES, CS, ET, ON and the rest.
    private enum BidiClass { case l, r, al, en, an, nsm, bn, other }

    /// An approximation of Unicode's Bidi_Class (UnicodeData.txt) by block ranges and
    /// general categories, precise for the characters IDNA2008 permits in common scripts.
    private static func bidiClass(_ c: Unicode.Scalar) -> BidiClass {
        let category = c.properties.generalCategory
        switch c.value {
        case 0x600...0x605, 0x660...0x669, 0x66B, 0x66C, 0x6DD, 0x890, 0x891, 0x8E2, 0x10D30...0x10D39,
            0x10E60...0x10E7E:
            return .an
        case 0x30...0x39, 0xB2, 0xB3, 0xB9, 0x6F0...0x6F9, 0x2070, 0x2074...0x2079, 0x2080...0x2089,
            0xFF10...0xFF19, 0x1D7CE...0x1D7FF:
            return .en
        case 0x2B9, 0x2BA, 0x2C6...0x2CF, 0x2EC, 0x2E2F, 0xA67F, 0xA717...0xA71F, 0xA788:
            return .other  // modifier letters that are ON
        case 0xF0B:
            return .l  // TIBETAN MARK INTERSYLLABIC TSHEG, a PVALID exception
        default: break
        }
        if category == .nonspacingMark || category == .enclosingMark { return .nsm }
        switch c.value {
        case 0x590...0x5FF, 0x7C0...0x85F, 0xFB1D...0xFB4F, 0x10800...0x10CFF, 0x10E80...0x10EBF,
            0x10F00...0x10F2F, 0x10F70...0x10FFF, 0x1E800...0x1EC6F, 0x1ED50...0x1EDFF, 0x1EF00...0x1EFFF:
            return .r
        case 0x600...0x7BF, 0x860...0x8FF, 0xFB50...0xFDCF, 0xFDF0...0xFDFF, 0xFE70...0xFEFF,
            0x10D00...0x10D3F, 0x10EC0...0x10EFF, 0x10F30...0x10F6F, 0x1EC70...0x1ED4F, 0x1EE00...0x1EEFF:
            return .al
        default: break
        }
        switch category {
        case .format: return .bn
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .spacingMark,
            .decimalNumber, .letterNumber:
            return .l
        default: return .other
        }
    }

    /// RFC 5893 §2, rules 1-6.
    private static func satisfiesBidiRule(_ label: [Unicode.Scalar]) -> Bool {
        let classes = label.map(bidiClass)
        let last = classes.last { $0 != .nsm }
        switch classes.first {
        case .r, .al:  // an RTL label
            return !classes.contains(.l)  // rule 2
                && [.r, .al, .en, .an].contains(last)  // rule 3
                && !(classes.contains(.en) && classes.contains(.an))  // rule 4
        case .l:  // an LTR label
            return !classes.contains { [.r, .al, .an].contains($0) }  // rule 5
                && (last == .l || last == .en)  // rule 6
        default:
            return false  // rule 1
        }
    }
}

// MARK: - Punycode (RFC 3492)

private enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
    private static let initialBias = 72, initialN = 128
    /// Bounds intermediate values (even where `Int` is 32 bits); no valid label gets near it.
    private static let limit = Int(Int32.max)

    /// §6.1 bias adaptation.
    private static func adapt(_ delta: Int, count: Int, first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / count
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    private static func threshold(_ k: Int, _ bias: Int) -> Int {
        k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
    }

    /// §5 digit values: a-z (either case) are 0-25, 0-9 are 26-35.
    private static func digitValue(_ c: Unicode.Scalar) -> Int? {
        switch c.value {
        case 0x61...0x7A: return Int(c.value) - 0x61
        case 0x41...0x5A: return Int(c.value) - 0x41
        case 0x30...0x39: return Int(c.value) - 0x30 + 26
        default: return nil
        }
    }

    private static func digitCharacter(_ d: Int) -> Unicode.Scalar {
        Unicode.Scalar(UInt8(d < 26 ? 0x61 + d : 0x30 + d - 26))
    }

    /// §6.2 decoding; `nil` for malformed input.
    static func decode(_ input: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar]? {
        var output: [Unicode.Scalar] = []
        var position = input.startIndex
        if let delimiter = input.lastIndex(of: "-") {
            output = Array(input[..<delimiter])
            position = delimiter + 1
        }
        var n = initialN, i = 0, bias = initialBias
        while position < input.endIndex {
            let oldI = i
            var w = 1, k = base
            while true {
                guard position < input.endIndex, let digit = digitValue(input[position]) else { return nil }
                position += 1
                guard digit <= (limit - i) / w else { return nil }
                i += digit * w
                let t = threshold(k, bias)
                if digit < t { break }
                guard w <= limit / (base - t) else { return nil }
                w *= base - t
                k += base
            }
            bias = adapt(i - oldI, count: output.count + 1, first: oldI == 0)
            n += i / (output.count + 1)
            i %= output.count + 1
            guard n <= 0x10FFFF, let scalar = Unicode.Scalar(UInt32(n)) else { return nil }
            output.insert(scalar, at: i)
            i += 1
        }
        return output
    }

    /// §6.3 encoding (callers bound the input to a label's length).
    static func encode(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output = input.filter(\.isASCII)
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = initialN, delta = 0, bias = initialBias
        while handled < input.count {
            let m = input.lazy.map { Int($0.value) }.filter { $0 >= n }.min() ?? n
            delta += (m - n) * (handled + 1)
            n = m
            for c in input {
                let value = Int(c.value)
                if value < n { delta += 1 }
                guard value == n else { continue }
                var q = delta, k = base
                while true {
                    let t = threshold(k, bias)
                    if q < t { break }
                    output.append(digitCharacter(t + (q - t) % (base - t)))
                    q = (q - t) / (base - t)
                    k += base
                }
                output.append(digitCharacter(q))
                bias = adapt(delta, count: handled + 1, first: handled == basicCount)
                delta = 0
                handled += 1
            }
            delta += 1
            n += 1
        }
        return output
    }
}

// MARK: - ECMA-262 regular expressions (§22.2.1, Unicode mode)

/// A syntax checker for ECMA-262 patterns with the `u` flag, where identity escapes are
/// limited to syntax characters, lone braces are errors and lookarounds cannot be quantified.
private struct ECMAScriptPatternChecker {
    private let s: [Unicode.Scalar]
    private var i = 0
    private var depth = 0
    private var groupCount = 0
    private var groupNames: Set<String> = []
    private var largestBackreference: Int64 = 0
    private var namedReferences: [String] = []

    /// Deeper nesting is rejected rather than risking the stack.
    private static let maxDepth = 256

    static func isValid(_ pattern: String) -> Bool {
        var checker = ECMAScriptPatternChecker(s: Array(pattern.unicodeScalars))
        guard checker.disjunction(), checker.i == checker.s.count else { return false }
        return checker.largestBackreference <= Int64(checker.groupCount)
            && checker.namedReferences.allSatisfy(checker.groupNames.contains)
    }

    private init(s: [Unicode.Scalar]) { self.s = s }

    private var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

    private mutating func eat(_ c: Unicode.Scalar) -> Bool {
        guard peek == c else { return false }
        i += 1
        return true
    }

    private mutating func eat(sequence text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard s[i...].starts(with: scalars) else { return false }
        i += scalars.count
        return true
    }

    /// `Disjunction :: Alternative ( "|" Alternative )*`
    private mutating func disjunction() -> Bool {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { return false }
        repeat {
            while let c = peek, c != "|", c != ")" {
                guard term() else { return false }
            }
        } while eat("|")
        return true
    }

    /// `Term :: Assertion | Atom Quantifier?`
    private mutating func term() -> Bool {
        if eat("^") || eat("$") || eat(sequence: "\\b") || eat(sequence: "\\B") { return !atQuantifier }
        if eat(sequence: "(?=") || eat(sequence: "(?!") || eat(sequence: "(?<=") || eat(sequence: "(?<!") {
            return disjunction() && eat(")") && !atQuantifier
        }
        return atom() && quantifier()
    }

    private var atQuantifier: Bool { peek.map { contains("*+?{", $0) } ?? false }

    /// `Quantifier :: ( "*" | "+" | "?" | "{" n ("," m?)? "}" ) "?"?`
    private mutating func quantifier() -> Bool {
        if eat("*") || eat("+") || eat("?") {
            _ = eat("?")
            return true
        }
        guard eat("{") else { return true }
        guard let low = decimal() else { return false }
        var high: Int64? = low
        if eat(",") { high = decimal() }
        guard eat("}") else { return false }
        _ = eat("?")
        return high.map { low <= $0 } ?? true
    }

    /// Decimal digits, saturating so that huge counts cannot overflow.
    private mutating func decimal() -> Int64? {
        let start = i
        var value: Int64 = 0
        while let c = peek, isDigit(c) {
            value = min(value * 10 + Int64(c.value - 0x30), Int64(UInt32.max))
            i += 1
        }
        return i > start ? value : nil
    }

    private mutating func atom() -> Bool {
        guard let c = peek else { return false }
        switch c {
        case ".": i += 1; return true
        case "(": return group()
        case "[": i += 1; return characterClass()
        case "\\": i += 1; return atomEscape()
        case "*", "+", "?", "{", "}", "]", ")", "|": return false
        default: i += 1; return true
        }
    }

    /// Capturing, named (`(?<name>`), non-capturing (`(?:`) and modifier (`(?ims-ims:`) groups.
    private mutating func group() -> Bool {
        i += 1
        if eat("?") {
            if eat("<") {
                guard let name = groupName() else { return false }
                groupNames.insert(name)
                groupCount += 1
            } else if !eat(":") {
                guard modifiers() else { return false }
            }
        } else {
            groupCount += 1
        }
        return disjunction() && eat(")")
    }

    /// ES2025 `(?flags-flags:`; the flags must be distinct and drawn from "ims".
    private mutating func modifiers() -> Bool {
        var seen: Set<Unicode.Scalar> = []
        var sawHyphen = false
        while let c = peek, c != ":" {
            if c == "-", !sawHyphen {
                sawHyphen = true
            } else {
                guard contains("ims", c), seen.insert(c).inserted else { return false }
            }
            i += 1
        }
        return !seen.isEmpty && eat(":")
    }

    /// `GroupName :: "<" RegExpIdentifierName ">"` (after the "<").
    private mutating func groupName() -> String? {
        var name = String.UnicodeScalarView()
        while let c = peek, c != ">" {
            let isStart = c == "$" || c == "_" || c.properties.isIDStart
            let isPart = c == "\u{200C}" || c == "\u{200D}" || c.properties.isIDContinue
            guard isStart || (!name.isEmpty && isPart) else { return nil }
            name.append(c)
            i += 1
        }
        return !name.isEmpty && eat(">") ? String(name) : nil
    }

    /// `AtomEscape :: DecimalEscape | CharacterClassEscape | CharacterEscape | "k" GroupName`
    private mutating func atomEscape() -> Bool {
        guard let c = peek else { return false }
        if c != "0", isDigit(c) {
            largestBackreference = max(largestBackreference, decimal() ?? 0)
            return true
        }
        if eat("k") {
            guard eat("<"), let name = groupName() else { return false }
            namedReferences.append(name)
            return true
        }
        return classEscape() != nil || characterEscape() != nil
    }

    /// `\d \D \s \S \w \W \p{…} \P{…}`; `true` if one was consumed and is well-formed.
    private mutating func classEscape() -> Bool? {
        guard let c = peek else { return nil }
        if contains("dDsSwW", c) {
            i += 1
            return true
        }
        guard c == "p" || c == "P" else { return nil }
        i += 1
        guard eat("{") else { return false }
        let start = i
        while let c = peek, isAlpha(c) || isDigit(c) || c == "_" || c == "=" { i += 1 }
        return i > start && eat("}")
    }

    /// `CharacterEscape`, returning the code point it denotes, or `nil` if malformed.
    private mutating func characterEscape() -> UInt32? {
        guard let c = peek else { return nil }
        i += 1
        switch c {
        case "f", "n", "r", "t", "v":  // ControlEscape
            return ["f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B][c]
        case "c":  // "c" AsciiLetter
            guard let letter = peek, isAlpha(letter) else { return nil }
            i += 1
            return letter.value % 32
        case "0":  // "0" [lookahead ∉ DecimalDigit]
            return peek.map(isDigit) == true ? nil : 0
        case "x":
            return hexValue(count: 2)
        case "u":  // "u" Hex4Digits | "u{" CodePoint "}"
            guard eat("{") else { return hexValue(count: 4) }
            let start = i
            var value: UInt32 = 0
            while let d = peek, isHexDigit(d) {
                value = min(value * 16 + hexDigitValue(d), 0x110000)
                i += 1
            }
            return i > start && value <= 0x10FFFF && eat("}") ? value : nil
        default:  // IdentityEscape[+UnicodeMode] :: SyntaxCharacter | "/"
            return contains("^$\\.*+?()[]{}|/", c) ? c.value : nil
        }
    }

    private mutating func hexValue(count: Int) -> UInt32? {
        guard i + count <= s.count, s[i..<(i + count)].allSatisfy(isHexDigit) else { return nil }
        defer { i += count }
        return s[i..<(i + count)].reduce(0) { $0 * 16 + hexDigitValue($1) }
    }

    /// The value of a hex digit (callers check `isHexDigit` first).
    private func hexDigitValue(_ d: Unicode.Scalar) -> UInt32 {
        isDigit(d) ? d.value - 0x30 : (d.value | 0x20) - 0x61 + 10
    }

    private enum ClassAtom { case character(UInt32), set }

    /// `CharacterClass :: "[" "^"? ClassContents "]"` (after the "["). Ranges must be
    /// ordered and may not have a class escape at either end.
    private mutating func characterClass() -> Bool {
        _ = eat("^")
        while let c = peek, c != "]" {
            guard let low = classAtom() else { return false }
            guard peek == "-", i + 1 < s.count, s[i + 1] != "]" else { continue }
            i += 1
            guard let high = classAtom(), case .character(let a) = low, case .character(let b) = high, a <= b else {
                return false
            }
        }
        return eat("]")
    }

    /// `ClassAtom :: "-" | ClassAtomNoDash`, where `ClassEscape :: "b" | "-" | CharacterClassEscape | CharacterEscape`.
    private mutating func classAtom() -> ClassAtom? {
        guard let c = peek else { return nil }
        i += 1
        guard c == "\\" else { return .character(c.value) }
        if eat("b") { return .character(0x08) }
        if eat("-") { return .character(0x2D) }
        if let isWellFormed = classEscape() { return isWellFormed ? .set : nil }
        return characterEscape().map { .character($0) }
    }
}
