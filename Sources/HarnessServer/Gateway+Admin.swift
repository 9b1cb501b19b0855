//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import Prometheus
import CoreMetrics
import HarnessConfig
import Foundation
import HarnessCore
import Hummingbird
import NIOCore

extension Gateway {
    /// The admin key's API: `POST /admin/keys` (create; the key is in the answer, once),
    /// `GET /admin/keys` (list, no secrets), `DELETE /admin/keys/{id}` (revoke),
    /// `GET /admin/usage` (spend by key and by model).
    func addAdminRoutes(to router: Hummingbird.Router<BasicRequestContext>) {
        router.post("/admin/keys") { request, _ in
            await self.admin(request, "admin_keys") {
                let root = FieldReader(try GatewayRequest.parseBody(try await self.readBody(request)), path: "")
                let name = try root.child("name")?.string() ?? "key"
                let budget = try root.child("budget_usd")?.double()
                if let budget, budget < 0 { throw GatewayError.invalid("budget_usd", "must not be negative") }
                let rpm = try root.child("rpm")?.int()
                let tpm = try root.child("tpm")?.int()
                if let rpm, rpm < 1 { throw GatewayError.invalid("rpm", "must be at least 1") }
                if let tpm, tpm < 1 { throw GatewayError.invalid("tpm", "must be at least 1") }
                let (secret, record) = KeyAuthenticator.issue(
                    tenant: self.configuration.server.tenant, name: name, budgetUSD: budget, requestsPerMinute: rpm, tokensPerMinute: tpm
                )
                try await self.stores.keys.create(record)
                self.authenticator.keysExist()
                var w = JSONWriter()
                w.object { w in
                    w.key("key"); w.string(secret)
                    Self.writeKeyFields(record, into: &w)
                }
                return Self.json(.created, w.bytes)
            }
        }
        router.get("/admin/keys") { request, _ in
            await self.admin(request, "admin_keys") {
                let keys = try await self.stores.keys.list(tenant: self.configuration.server.tenant)
                var spent: [String: Double] = [:]
                for key in keys { spent[key.id] = try await self.authenticator.spent(key) }
                var w = JSONWriter()
                w.object { w in
                    w.key("data")
                    w.array { w in
                        for key in keys {
                            w.object { w in
                                Self.writeKeyFields(key, into: &w)
                                w.key("spent_usd"); w.double(spent[key.id] ?? 0)
                            }
                        }
                    }
                }
                return Self.json(.ok, w.bytes)
            }
        }
        router.delete("/admin/keys/:id") { request, context in
            await self.admin(request, "admin_keys") {
                let id = context.parameters.get("id") ?? ""
                let revoked = try await self.stores.keys.revoke(id: id, tenant: self.configuration.server.tenant, at: Date())
                guard revoked else { throw GatewayError(.notFound, code: "key_not_found", "no active key with id '\(id)'") }
                self.authenticator.invalidate()
                return Self.json(.ok, #"{"id":"\#(id)","revoked":true}"#)
            }
        }
        router.get("/admin/usage") { request, _ in
            await self.admin(request, "admin_usage") {
                let tenant = self.configuration.server.tenant
                await self.recorder.flush()
                let byKey = try await self.stores.ledger.aggregate(tenant: tenant, by: .apiKey, since: nil, until: nil)
                let byModel = try await self.stores.ledger.aggregate(tenant: tenant, by: .model, since: nil, until: nil)
                var w = JSONWriter()
                w.object { w in
                    for (label, rows) in [("by_key", byKey), ("by_model", byModel)] {
                        w.key(label)
                        w.array { w in
                            for row in rows {
                                w.object { w in
                                    w.key("group"); w.string(row.group)
                                    w.key("requests"); w.int(row.requests)
                                    w.key("input_tokens"); w.int(row.usage.inputTokens)
                                    w.key("output_tokens"); w.int(row.usage.outputTokens)
                                    w.key("cost_usd"); w.double(row.costUSD)
                                }
                            }
                        }
                    }
                }
                return Self.json(.ok, w.bytes)
            }
        }
    }

    static func writeKeyFields(_ key: VirtualKey, into w: inout JSONWriter) {
        w.key("id"); w.string(key.id)
        w.key("name"); w.string(key.name)
        w.key("prefix"); w.string(key.displayPrefix)
        w.key("budget_usd"); if let b = key.budgetUSD { w.double(b) } else { w.null() }
        w.key("rpm"); if let r = key.requestsPerMinute { w.int(r) } else { w.null() }
        w.key("tpm"); if let t = key.tokensPerMinute { w.int(t) } else { w.null() }
        w.key("created_at"); w.string(ISO8601DateFormatter().string(from: key.createdAt))
        w.key("revoked"); w.bool(key.revokedAt != nil)
    }

    /// Runs `body` for the admin key only: 401 without a key, 403 with a virtual key.
    func admin(_ request: Request, _ endpoint: String, _ body: @escaping () async throws -> Response) async -> Response {
        let requestID = Self.newRequestID()
        return await serve(endpoint, format: .openAI, requestID: requestID) {
            let secret = KeyAuthenticator.presentedKey(authorization: request.headers[.authorization], xAPIKey: request.headers[.xAPIKey])
            guard authenticator.adminKeyHash != nil else {
                throw GatewayError(.permission, code: "admin_disabled", "the admin API is off: set \(configuration.server.adminKeyEnv) when starting the server")
            }
            guard let secret else { throw GatewayError(.authentication, code: "missing_api_key", "the admin API needs the admin key") }
            guard case .admin = try await authenticator.authenticate(secret, forModelRequest: false) else {
                throw GatewayError(.permission, code: "not_admin", "this key may not use the admin API")
            }
            return try await body()
        }
    }
}
