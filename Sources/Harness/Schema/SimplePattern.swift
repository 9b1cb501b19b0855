//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A matcher for the simple regular expressions most schemas use — literals, `.`, classes
/// (`[A-Z0-9_-]`, `\d`, `\w`, `\s` with ECMA-262 meanings), quantifiers (`?`, `*`, `+`,
/// `{n}`, `{n,}`, `{n,m}`), and `^`/`$` at the ends — matched over Unicode scalars by
/// backtracking. `init` returns `nil` for anything richer (groups, alternation, lookaround,
/// backreferences), which is then left to `NSRegularExpression`.
struct SimplePattern: Sendable {
    struct Atom: Sendable {
        enum Kind: Sendable {
            case scalar(Unicode.Scalar)
            case any
            case set(ranges: [ClosedRange<UInt32>], negated: Bool)
        }
        var kind: Kind
        var min: Int
        var max: Int  // Int.max for unbounded

        func accepts(_ c: Unicode.Scalar) -> Bool {
            switch kind {
            case .scalar(let s): return s == c
            case .any: return c != "\n" && c != "\r" && c != "\u{2028}" && c != "\u{2029}"
            case .set(let ranges, let negated):
                let v = c.value
                var inSet = false
                for r in ranges where r.contains(v) {
                    inSet = true
                    break
                }
                return inSet != negated
            }
        }
    }

    let atoms: [Atom]
    let anchoredStart: Bool
    let anchoredEnd: Bool

    static let digit: [ClosedRange<UInt32>] = [48...57]
    static let word: [ClosedRange<UInt32>] = [48...57, 65...90, 95...95, 97...122]
    static let space: [ClosedRange<UInt32>] = [
        9...13, 32...32, 160...160, 5760...5760, 8192...8202, 8232...8233, 8239...8239, 8287...8287,
        12288...12288, 65279...65279,
    ]

    init?(_ pattern: String) {
        var scalars = Array(pattern.unicodeScalars)[...]
        var anchoredStart = false
        var anchoredEnd = false
        if scalars.first == "^" {
            anchoredStart = true
            scalars = scalars.dropFirst()
        }
        if scalars.last == "$", scalars.count >= 1 {
            // A final `$` that is not escaped.
            var backslashes = 0
            var i = scalars.index(before: scalars.endIndex)
            while i > scalars.startIndex, scalars[scalars.index(before: i)] == "\\" {
                backslashes += 1
                i = scalars.index(before: i)
            }
            if backslashes % 2 == 0 {
                anchoredEnd = true
                scalars = scalars.dropLast()
            }
        }
        var atoms: [Atom] = []
        while let c = scalars.first {
            scalars = scalars.dropFirst()
            var kind: Atom.Kind
            switch c {
            case ".": kind = .any
            case "\\":
                guard let e = scalars.first else { return nil }
                scalars = scalars.dropFirst()
                guard let k = Self.escape(e) else { return nil }
                kind = k
            case "[":
                guard let (k, rest) = Self.characterClass(scalars) else { return nil }
                kind = k
                scalars = rest
            case "(", ")", "|", "^", "$", "*", "+", "?", "{", "}", "]": return nil
            default: kind = .scalar(c)
            }
            var atom = Atom(kind: kind, min: 1, max: 1)
            if let q = scalars.first {
                switch q {
                case "?": atom.min = 0; atom.max = 1; scalars = scalars.dropFirst()
                case "*": atom.min = 0; atom.max = .max; scalars = scalars.dropFirst()
                case "+": atom.min = 1; atom.max = .max; scalars = scalars.dropFirst()
                case "{":
                    guard let (lo, hi, rest) = Self.braces(scalars.dropFirst()) else { return nil }
                    atom.min = lo
                    atom.max = hi
                    scalars = rest
                default: break
                }
                if scalars.first == "?" || scalars.first == "+" || scalars.first == "*" || scalars.first == "{" { return nil }  // lazy/possessive/stacked
            }
            atoms.append(atom)
        }
        self.atoms = atoms
        self.anchoredStart = anchoredStart
        self.anchoredEnd = anchoredEnd
    }

    static func escape(_ e: Unicode.Scalar) -> Atom.Kind? {
        switch e {
        case "d": return .set(ranges: digit, negated: false)
        case "D": return .set(ranges: digit, negated: true)
        case "w": return .set(ranges: word, negated: false)
        case "W": return .set(ranges: word, negated: true)
        case "s": return .set(ranges: space, negated: false)
        case "S": return .set(ranges: space, negated: true)
        case "t": return .scalar("\t")
        case "n": return .scalar("\n")
        case "r": return .scalar("\r")
        default:
            // Escaped punctuation stands for itself; letters and digits have meanings we leave to the full engine.
            if e.properties.isAlphabetic || ("0"..."9").contains(e) { return nil }
            return .scalar(e)
        }
    }

    static func characterClass(_ input: ArraySlice<Unicode.Scalar>) -> (Atom.Kind, ArraySlice<Unicode.Scalar>)? {
        var s = input
        var negated = false
        if s.first == "^" {
            negated = true
            s = s.dropFirst()
        }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while let c = s.first {
            s = s.dropFirst()
            if c == "]", !first { return (.set(ranges: ranges, negated: negated), s) }
            first = false
            var lower: UInt32
            if c == "\\" {
                guard let e = s.first else { return nil }
                s = s.dropFirst()
                switch escape(e) {
                case .set(let r, false): ranges += r; continue
                case .scalar(let v): lower = v.value
                default: return nil
                }
            } else if c == "[" {
                return nil  // [[:alpha:]] and nested classes: leave to the full engine
            } else {
                lower = c.value
            }
            if s.first == "-", s.count >= 2, s[s.index(after: s.startIndex)] != "]" {
                s = s.dropFirst()
                guard var upperScalar = s.first else { return nil }
                s = s.dropFirst()
                if upperScalar == "\\" {
                    guard let e = s.first, case .scalar(let v)? = escape(e) else { return nil }
                    s = s.dropFirst()
                    upperScalar = v
                }
                guard upperScalar.value >= lower else { return nil }
                ranges.append(lower...upperScalar.value)
            } else {
                ranges.append(lower...lower)
            }
        }
        return nil
    }

    static func braces(_ input: ArraySlice<Unicode.Scalar>) -> (Int, Int, ArraySlice<Unicode.Scalar>)? {
        var s = input
        func number() -> Int? {
            var n = 0
            var digits = 0
            while let c = s.first, ("0"..."9").contains(c), digits < 6 {
                n = n * 10 + Int(c.value - 48)
                digits += 1
                s = s.dropFirst()
            }
            return digits > 0 ? n : nil
        }
        guard let lo = number() else { return nil }
        var hi = lo
        if s.first == "," {
            s = s.dropFirst()
            hi = number() ?? .max
        }
        guard s.first == "}", hi >= lo else { return nil }
        return (lo, hi, s.dropFirst())
    }

    /// Whether the pattern matches anywhere in `text` (or all of it, when anchored at both ends).
    func matches(_ text: String) -> Bool {
        let scalars = text.unicodeScalars
        if anchoredStart { return match(0, scalars, scalars.startIndex) }
        var i = scalars.startIndex
        while true {
            if match(0, scalars, i) { return true }
            if i == scalars.endIndex { return false }
            i = scalars.index(after: i)
        }
    }

    private func match(_ k: Int, _ scalars: String.UnicodeScalarView, _ start: String.Index) -> Bool {
        guard k < atoms.count else { return !anchoredEnd || start == scalars.endIndex }
        let atom = atoms[k]
        // Greedy: take as many as allowed, then give back.
        var ends: [String.Index] = []
        var i = start
        var count = 0
        if count >= atom.min { ends.append(i) }
        while count < atom.max, i < scalars.endIndex, atom.accepts(scalars[i]) {
            i = scalars.index(after: i)
            count += 1
            if count >= atom.min { ends.append(i) }
        }
        while let end = ends.popLast() {
            if match(k + 1, scalars, end) { return true }
        }
        return false
    }
}

/// For tests: whether a pattern takes the fast path.
package enum SimplePatternProbe {
    package static func accepts(_ pattern: String) -> Bool { SimplePattern(pattern) != nil }
}
