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
    /// `GET /` and `/dashboard`: one HTML page with the models, agents, readiness, usage by
    /// model, and links to the JSON and metrics endpoints. No script, no external assets.
    func dashboard() async -> Response {
        let (ready, checks) = await readiness()
        await recorder.flush()
        let usage = (try? await stores.ledger.aggregate(tenant: configuration.server.tenant, by: .model, since: nil, until: nil)) ?? []
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var html = """
            <!doctype html><html><head><meta charset="utf-8"><title>Harness gateway</title>
            <style>body{font:14px system-ui,sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.ok{color:#070}.bad{color:#a00}</style>
            </head><body><h1>Harness gateway</h1>
            <p>Status: <b class="\(ready ? "ok" : "bad")">\(ready ? "ready" : "not ready")</b> —
            \(checks.map { "\(esc($0.0)): \(esc($0.1))" }.joined(separator: "; "))</p>
            <p>Authentication: \(authenticator.isRequired ? "virtual keys required" : "off (no keys yet)") · tenant \(esc(configuration.server.tenant))</p>
            <h2>Models</h2><table><tr><th>name</th><th>routes</th></tr>
            """
        for name in modelNames {
            let routes = models[name]?.routes.map { esc($0.name) }.joined(separator: " → ") ?? ""
            html += "<tr><td>\(esc(name))</td><td>\(routes)</td></tr>"
        }
        html += "</table><h2>Agents</h2><table><tr><th>name</th><th>model</th><th>tools</th></tr>"
        for name in agentNames {
            guard let a = agents[name] else { continue }
            html += "<tr><td>\(esc(name))</td><td>\(esc(a.modelID))</td><td>\(a.tools.map { esc($0.name) }.joined(separator: ", "))</td></tr>"
        }
        html += "</table><h2>Usage by model</h2><table><tr><th>model</th><th>requests</th><th>input tokens</th><th>output tokens</th><th>cost (USD)</th></tr>"
        for row in usage {
            html += "<tr><td>\(esc(row.group))</td><td>\(row.requests)</td><td>\(row.usage.inputTokens)</td><td>\(row.usage.outputTokens)</td><td>\(String(format: "%.6f", row.costUSD))</td></tr>"
        }
        html += """
            </table><p><a href="/metrics">/metrics</a> · <a href="/health/ready">/health/ready</a> · <a href="/v1/models">/v1/models</a></p>
            </body></html>
            """
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}
