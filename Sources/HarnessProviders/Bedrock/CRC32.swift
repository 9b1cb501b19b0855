//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// CRC-32/ISO-HDLC — the checksum of zlib, PNG and Ethernet, and of the AWS event stream
/// framing: reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF.
///
/// Written here, table-driven (one 256-entry table, a byte at a time), because none of the
/// package's dependencies exposes one: swift-crypto has only cryptographic hashes, and
/// NIO's zlib support is not a dependency of this module. Checked against the standard check
/// value (`"123456789"` → `0xCBF43926`) and against Python's `binascii.crc32` through
/// botocore's event stream parser.
package enum CRC32 {
    /// The 256 remainders of the reflected polynomial.
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The CRC of `bytes`.
    package static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(0, bytes)
    }

    /// The CRC of `bytes`.
    package static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// The CRC of the bytes whose CRC is `crc` followed by `bytes` (zlib's `crc32(crc, …)`).
    package static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = crc ^ 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            for byte in bytes { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}
