"""Prometheus metrics of the API process (served at `/metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter("alliance_api_requests_total", "HTTP requests", ["method", "path", "status"])
LATENCY = Histogram("alliance_api_request_seconds", "HTTP request latency", ["method", "path"])
ERRORS = Counter("alliance_api_errors_total", "HTTP responses with a 5xx status or an exception",
                 ["path"])
GRAPHQL_ERRORS = Counter("alliance_api_graphql_errors_total", "GraphQL errors by code", ["code"])
DB_SECONDS = Histogram("alliance_api_neo4j_query_seconds", "Time spent in Neo4j queries", ["query"])
DB_ERRORS = Counter("alliance_api_neo4j_errors_total", "Neo4j failures", ["kind"])
