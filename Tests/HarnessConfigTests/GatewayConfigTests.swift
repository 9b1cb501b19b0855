//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Harness
import HarnessConfig
import Testing

@Suite struct GatewayConfigTests {
    @Test func serverModelsAndAgents() throws {
        let c = try ConfigLoader.load(yaml: """
            server:
              host: 0.0.0.0
              port: 9000
              auth: required
              max_body_size: 65536
              shutdown_timeout: 5s
            models:
              smart:
                strategy: least_latency
                routes:
                  - {provider: openai, model: gpt-4o-mini, base_url: "http://127.0.0.1:1/v1", api_key_env: K, weight: 2}
                  - {provider: scripted}
              echo:
                provider: scripted
            agents:
              helper:
                model: smart
                tools: [get_weather]
                max_iterations: 4
            """, environment: ["HARNESS_SERVER_PORT": "9100"])
        #expect(c.server.host == "0.0.0.0" && c.server.port == 9100 && c.server.auth == .required)
        #expect(c.server.maxBodySize == 65536 && c.server.shutdownTimeout == .seconds(5))
        #expect(c.models.map(\.name) == ["smart", "echo"])
        #expect(c.models[0].strategy == "least_latency")
        #expect(c.models[0].routes[0] == RouteSettings(provider: "openai", model: "gpt-4o-mini", baseURL: "http://127.0.0.1:1/v1", apiKeyEnv: "K", weight: 2))
        #expect(c.models[1].routes == [RouteSettings(provider: "scripted")])
        #expect(c.agents == [AgentSettings(name: "helper", model: "smart", tools: ["get_weather"], maxIterations: 4)])
    }

    @Test func problemsNameKeyAndLine() {
        let yaml = """
            server:
              prot: 80
              auth: maybe
            models:
              a:
                provider: openia
              b:
                routes: []
              c:
                provider: openai
                base_url: ftp://x
            agents:
              x:
                model: nowhere
            """
        do {
            _ = try ConfigLoader.load(yaml: yaml)
            Issue.record("accepted")
        } catch let error as ConfigError {
            let text = error.description
            #expect(text.contains("harness.yaml:2: 'server.prot': unknown key; did you mean 'port'?"), "\(text)")
            #expect(text.contains("'server.auth': must be one of auto, required, disabled"))
            #expect(text.contains("'models.a.provider': must be one of openai"))
            #expect(text.contains("'models.b.routes': must be a non-empty list"))
            #expect(text.contains("'models.c.base_url': must be an http:// or https:// URL"))
            #expect(text.contains("'agents.x.model': names 'nowhere', which is not a configured model"))
        } catch {
            Issue.record("\(error)")
        }
    }
}
