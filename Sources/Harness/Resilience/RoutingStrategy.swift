//===----------------------------------------------------------------------===//
//
// This source file is part of the Harness open source project
//
// Copyright (c) the Harness authors
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// How a ``Router`` orders its routes for a call. The first route in the order is tried
/// first; on a failure the call moves down the order. Routes that lack a capability the
/// request needs, whose breaker is open or that the health check marks unhealthy are passed
/// over in every strategy.
public enum RoutingStrategy: String, Sendable, Hashable, Codable, CaseIterable {
    /// The routes in the order given: the first is the primary, the others its fallbacks.
    case fallback
    /// Each call starts at the next route, cycling.
    case roundRobin = "round_robin"
    /// The first route is drawn at random in proportion to the routes' weights.
    case weighted
    /// The route with the lowest moving average of latency (time to the first event of a
    /// stream, the whole call for `complete`) first; routes not yet measured before them.
    case leastLatency = "least_latency"
    /// The cheapest route by its price and the request's estimated tokens first; routes
    /// without a price last.
    case costOptimized = "cost_optimized"
}
