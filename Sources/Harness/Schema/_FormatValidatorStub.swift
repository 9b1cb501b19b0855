//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//
// TEMPORARY: replaced by FormatValidator.swift (format assertion) later in this session.
package enum FormatValidator {
    package static func isValid(_ value: String, format: String) -> Bool? { nil }
    package static let knownFormats: Set<String> = []
}
