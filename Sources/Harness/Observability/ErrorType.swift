//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore

/// An error that names its own class for telemetry: the `error.type` span attribute and the
/// `error_type` label. The value must come from a small fixed set (a code, never a message).
public protocol ErrorTypeReporting: Error {
    /// A low-cardinality name of the error's kind, such as `rate_limited` or `timeout`.
    var errorType: String { get }
}

/// The low-cardinality class of an error, for `error.type` and `error_type`.
public enum ErrorType {
    /// `error`'s class: its own ``ErrorTypeReporting/errorType``, a ``HarnessError``'s code
    /// in snake case, `cancelled` for cancellation, else the error's type name. A ``RunError``
    /// is classed by the error that caused it.
    public static func of(_ error: any Error) -> String {
        switch error {
        case let error as any ErrorTypeReporting: return error.errorType
        case let error as RunError:
            if error.code == .cancelled { return "cancelled" }
            if error.underlying is RunError { return snakeCase(error.code.description) }
            return of(error.underlying)
        case let error as HarnessError: return snakeCase(error.code.description)
        case is CancellationError: return "cancelled"
        default: return String(describing: type(of: error))
        }
    }

    /// `modelError` → `model_error`.
    static func snakeCase(_ name: String) -> String {
        var out = ""
        out.reserveCapacity(name.count + 4)
        for character in name {
            if character.isUppercase {
                if !out.isEmpty { out.append("_") }
                out.append(contentsOf: character.lowercased())
            } else {
                out.append(character)
            }
        }
        return out
    }
}
