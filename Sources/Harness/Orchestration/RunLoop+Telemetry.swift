//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HarnessCore
import Instrumentation
import Logging
import Tracing

/// Spans, metrics and log lines of a run. Spans carry ids, names, counts and codes only:
/// never prompt or answer text, tool arguments or results, nor error messages (which may
/// quote them): a failure is its `error.type` and the span's error status.
extension RunLoop {
    /// Runs `body` inside the run's `invoke_agent` span, and records the run's metrics.
    func observedRun(_ body: () async throws -> RunResult) async throws -> RunResult {
        let span = tracer.startSpan(
            "\(GenAIAttributes.Operation.invokeAgent) \(agent.name)", context: ServiceContext.current ?? .topLevel
        )
        defer { span.end() }
        if span.isRecording {
            span.updateAttributes { attributes in
                attributes[GenAIAttributes.operationName] = GenAIAttributes.Operation.invokeAgent
                attributes[GenAIAttributes.agentName] = agent.name
                attributes[GenAIAttributes.providerName] = agent.model.providerName
                attributes[GenAIAttributes.requestModel] = agent.modelID
                attributes[GenAIAttributes.runID] = runID
                if let id = options.conversationID { attributes[GenAIAttributes.conversationID] = id }
            }
        }
        logger.debug("run started", metadata: ["event": "run.started"])
        let result: RunResult
        do {
            result = try await ServiceContext.withValue(span.context) { try await body() }
        } catch {
            let partial = (error as? RunError)?.partial ?? self.result(.failed, nil)
            let type = ErrorType.of(error)
            finish(span, partial)
            span.attributes[GenAIAttributes.errorType] = type
            span.setStatus(SpanStatus(code: .error, message: type))
            logger.warning(
                "run failed",
                metadata: ["event": "run.failed", "error.type": "\(type)", "harness.iterations": "\(partial.iterations)"]
            )
            throw error
        }
        finish(span, result)
        logger.debug(
            "run finished",
            metadata: [
                "event": "run.finished", "harness.stop_reason": "\(result.stopReason.rawValue)",
                "harness.iterations": "\(result.iterations)",
            ]
        )
        return result
    }

    private func finish(_ span: any Span, _ result: RunResult) {
        metrics.recordRequest(status: result.stopReason.metricLabel, duration: clock.now - start)
        guard span.isRecording else { return }
        span.updateAttributes { attributes in
            attributes[GenAIAttributes.stopReason] = result.stopReason.rawValue
            attributes[GenAIAttributes.inputTokens] = result.usage.inputTokens
            attributes[GenAIAttributes.outputTokens] = result.usage.outputTokens
            attributes["harness.iterations"] = result.iterations
        }
    }

    /// Starts the span of iteration `iteration` (ended by the caller), child of the run's.
    func startIterationSpan(_ iteration: Int) -> any Span {
        let span = tracer.startSpan("harness.iteration", context: ServiceContext.current ?? .topLevel)
        if span.isRecording { span.attributes[GenAIAttributes.iteration] = iteration }
        iterationSpan = span
        iterationContext = span.context
        logger.debug("iteration started", metadata: ["event": "iteration.started", "harness.iteration": "\(iteration)"])
        return span
    }

    func endIterationSpan(_ span: any Span, _ outcome: Result<IterationOutcome, any Error>) {
        if case .failure(let error) = outcome {
            span.attributes[GenAIAttributes.errorType] = ErrorType.of(error)
            span.setStatus(SpanStatus(code: .error))
        }
        span.end()
        iterationSpan = nil
    }

    /// A response-cache lookup, counted as a hit or a miss.
    func observedCacheLookup(_ cache: ResponseCache, _ request: ModelRequest) async -> ModelResponse? {
        let cached = await cache.get(request)
        metrics.recordCacheLookup(hit: cached != nil)
        if cached != nil, let span = iterationSpan, span.isRecording { span.attributes[GenAIAttributes.cacheHit] = true }
        return cached
    }

    /// A call to the model, inside its `chat {model}` span (which outgoing HTTP requests carry
    /// as their trace context); counts the provider call, its tokens or error, and its cost.
    func observedModelCall(
        _ request: ModelRequest,
        _ call: () async throws -> ModelResponse
    ) async throws -> ModelResponse {
        let provider = agent.model.providerName
        let span = tracer.startSpan(
            "\(GenAIAttributes.Operation.chat) \(request.model)", context: ServiceContext.current ?? .topLevel,
            ofKind: .client
        )
        defer { span.end() }
        if span.isRecording {
            span.updateAttributes { attributes in
                attributes[GenAIAttributes.operationName] = GenAIAttributes.Operation.chat
                attributes[GenAIAttributes.providerName] = provider
                attributes[GenAIAttributes.requestModel] = request.model
            }
        }
        let response: ModelResponse
        do {
            response = try await ServiceContext.withValue(span.context) { try await call() }
        } catch {
            let type = ErrorType.of(error)
            metrics.recordProviderError(provider: provider, errorType: type)
            span.attributes[GenAIAttributes.errorType] = type
            span.setStatus(SpanStatus(code: .error, message: type))
            logger.debug("model call failed", metadata: ["event": "model.failed", "error.type": "\(type)"])
            throw error
        }
        metrics.recordProviderCall(provider: provider, usage: response.usage)
        if let pricing = configuration.observability.pricing,
            let cost = pricing.cost(of: response.usage, model: response.model ?? request.model)
        {
            metrics.recordCost(usd: cost)
        }
        if span.isRecording {
            span.updateAttributes { attributes in
                if let model = response.model { attributes[GenAIAttributes.responseModel] = model }
                if let id = response.requestID { attributes[GenAIAttributes.responseID] = id }
                attributes[GenAIAttributes.finishReasons] = [GenAIAttributes.finishReason(response.finishReason)]
                attributes[GenAIAttributes.inputTokens] = response.usage.inputTokens
                attributes[GenAIAttributes.outputTokens] = response.usage.outputTokens
            }
        }
        return response
    }

    /// A conversation-store call inside its own span.
    @discardableResult
    func observedStoreCall<T>(
        _ operation: String,
        _ store: any ConversationStore,
        _ body: () async throws -> T
    ) async throws -> T {
        let span = tracer.startSpan("conversation_store \(operation)", context: ServiceContext.current ?? .topLevel, ofKind: .client)
        defer { span.end() }
        if span.isRecording {
            span.updateAttributes { attributes in
                attributes[GenAIAttributes.storeOperation] = operation
                attributes[GenAIAttributes.storeType] = String(describing: type(of: store))
            }
        }
        do {
            return try await ServiceContext.withValue(span.context) { try await body() }
        } catch {
            span.attributes[GenAIAttributes.errorType] = ErrorType.of(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }
}
