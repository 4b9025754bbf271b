"""Prometheus metrics of the API process (served at `/metrics`). The Neo4j ones
(`DB_SECONDS`, `DB_ERRORS`) are kept by `graph.access`, which every query goes through,
and are named here too."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from graph.access import DB_ERRORS, DB_SECONDS

__all__ = ["DB_ERRORS", "DB_SECONDS", "ERRORS", "GRAPHQL_COMPILED", "GRAPHQL_ERRORS", "GRAPHQL_FAST",
           "LATENCY", "REQUESTS"]

REQUESTS = Counter("alliance_api_requests_total", "HTTP requests", ["method", "path", "status"])
LATENCY = Histogram("alliance_api_request_seconds", "HTTP request latency", ["method", "path"])
ERRORS = Counter("alliance_api_errors_total", "HTTP responses with a 5xx status or an exception",
                 ["path"])
GRAPHQL_ERRORS = Counter("alliance_api_graphql_errors_total", "GraphQL errors by code", ["code"])
GRAPHQL_FAST = Counter("alliance_api_graphql_fast_total",
                       "GraphQL requests answered by the short path (api.fastpath)")
GRAPHQL_COMPILED = Counter("alliance_api_graphql_compiled_total",
                           "GraphQL requests answered by a compiled plan (api.compiled)")
