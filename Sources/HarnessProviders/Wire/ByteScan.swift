//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Byte searches that look at eight bytes at a time (SWAR), for the SSE and JSON hot paths.
///
/// Each mask below flags, in the high bit of a byte, the bytes that match; a flag can be
/// wrong only above a true one (a borrow runs upwards), so the lowest flag is always the
/// first match.
enum ByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Flags the zero bytes of `word`.
    @inline(__always)
    static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highs
    }

    /// Flags the bytes of `word` equal to `byte`.
    @inline(__always)
    static func bytes(_ word: UInt64, equalTo byte: UInt8) -> UInt64 {
        zeroBytes(word ^ (ones &* UInt64(byte)))
    }

    /// Flags the bytes of `word` below `bound` (at most 128).
    @inline(__always)
    static func bytes(_ word: UInt64, below bound: UInt8) -> UInt64 {
        (word &- (ones &* UInt64(bound))) & ~word & highs
    }

    /// The eight bytes at `offset`, the first in the lowest byte whatever the platform.
    @inline(__always)
    static func word(_ base: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// The offset of the first CR or LF in `base[start..<end]`, or `end`.
    @inline(__always)
    static func lineEnd(_ base: UnsafeRawPointer, from start: Int, to end: Int) -> Int {
        var i = start
        while i &+ 8 <= end {
            let w = word(base, i)
            let hits = bytes(w, equalTo: 0x0A) | bytes(w, equalTo: 0x0D)
            if hits != 0 { return i &+ hits.trailingZeroBitCount &>> 3 }
            i &+= 8
        }
        while i < end {
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            if b == 0x0A || b == 0x0D { return i }
            i &+= 1
        }
        return end
    }
}
