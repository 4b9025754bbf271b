"""Webhooks of alert receivers: their addresses, their signing secrets, the signature.

A receiver (`graph.alerts.Receiver`: a role, and a liaison's agency or a brand member's
brand) may register a few webhooks; each new alert of that receiver is then delivered to
each of them through the outbox (`graph.outbox`).

The signing secret is never stored. It is derived when needed,
`HMAC-SHA256(ALLIANCE_WEBHOOK_KEY, "alliance-webhook-secret\\n" + webhook_id)`, shown once
at registration and recomputed by the delivery worker to sign. A copy of the database
(or a backup, or a reader of the graph) holds no secret; whoever holds both the graph and
ALLIANCE_WEBHOOK_KEY can sign, as the service can. Changing the key changes every
webhook's secret (receivers then register again).

The address: `http` or `https`, a host, no user name or password in it, at most
`MAX_URL` characters. A host that is or resolves to a loopback, private, link-local,
shared, multicast or reserved address is refused (so a webhook cannot make the service
call into its own network), at registration and again before each delivery (a name may
resolve elsewhere later); redirects are never followed. ALLIANCE_WEBHOOK_ALLOW_PRIVATE
lifts the address rule for local set-ups and tests.

A delivery is signed over `timestamp + "." + body` (`sign`); docs/alerts.md gives the
receiver's recipe to verify it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
from collections.abc import Callable
from typing import LiteralString
from urllib.parse import urlsplit

from core import errors

MAX_URL = 2048
MAX_PER_RECEIVER = 10
SECRET_PREFIX = "whsec_"

SIGNATURE_HEADER = "X-Alliance-Signature"
TIMESTAMP_HEADER = "X-Alliance-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DELIVERY_HEADER = "X-Alliance-Delivery"
SIGNATURE_VERSION = "v1"


class BadWebhookUrl(errors.UserError):
    code = "BAD_WEBHOOK_URL"


class WebhookNotFound(errors.NotFound):
    """No webhook of that id for this receiver."""


class TooManyWebhooks(errors.Conflict):
    code = "TOO_MANY_WEBHOOKS"


# ---------------------------------------------------------------- secrets and signatures


def new_webhook_id() -> str:
    return secrets.token_hex(16)


def secret_for(key: bytes, webhook_id: str) -> str:
    """The signing secret of webhook `webhook_id`, derived from the service's key."""
    digest = hmac.new(key, f"alliance-webhook-secret\n{webhook_id}".encode(), hashlib.sha256)
    return SECRET_PREFIX + digest.hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: `v1=` and the hex HMAC-SHA256 of `timestamp.body`."""
    message = str(timestamp).encode() + b"." + body
    mac = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={mac}"


# ---------------------------------------------------------------- addresses


Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (empty when it resolves to none)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> tuple[str, int]:
    """The host and port of a well-formed webhook address, or `BadWebhookUrl`."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise BadWebhookUrl(f"a webhook address is 1 to {MAX_URL} characters")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise BadWebhookUrl("a webhook address has no spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BadWebhookUrl("a webhook address starts with https:// or http://")
    if parts.username is not None or parts.password is not None:
        raise BadWebhookUrl("a webhook address carries no user name or password")
    if parts.fragment:
        raise BadWebhookUrl("a webhook address has no #fragment")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise BadWebhookUrl("the webhook address has an unusable port") from None
    if not parts.hostname:
        raise BadWebhookUrl("a webhook address names a host")
    return parts.hostname, port


def check_reachable(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> None:
    """`BadWebhookUrl` unless `url` is well formed and (unless `allow_private`) its host
    resolves only to public addresses."""
    host, port = check_url(url)
    if allow_private:
        return
    addresses = resolver(host, port)
    if not addresses:
        raise BadWebhookUrl(f"the webhook host {host!r} does not resolve")
    private = [a for a in addresses if not is_public(a)]
    if private:
        raise BadWebhookUrl(f"the webhook host {host!r} resolves to a loopback, private or "
                            f"reserved address ({private[0]}); webhooks call public "
                            "addresses only")


# ---------------------------------------------------------------- the graph

REGISTER: LiteralString = """
OPTIONAL MATCH (existing:Webhook {receiver: $receiver})
WITH count(existing) AS n
WHERE n < $most
CREATE (w:Webhook {webhook_id: $id})
SET w.receiver = $receiver, w.role = $role, w.agency_id = $agency_id, w.brand_id = $brand_id,
    w.url = $url, w.created_at = datetime(), w.created_by = $who
RETURN w {.*} AS webhook
"""

LIST: LiteralString = """
MATCH (w:Webhook {receiver: $receiver})
OPTIONAL MATCH (d:Delivery {webhook_id: w.webhook_id})
WITH w, d.status AS status, count(d) AS n
WITH w, collect({status: status, n: n}) AS counts
RETURN w {.*, counts: [c IN counts WHERE c.status IS NOT NULL]} AS webhook
ORDER BY webhook.created_at, webhook.webhook_id
"""

REMOVE: LiteralString = """
MATCH (w:Webhook {webhook_id: $id, receiver: $receiver})
OPTIONAL MATCH (d:Delivery {webhook_id: w.webhook_id, status: 'pending'})
SET d.status = 'failed', d.last_error = 'webhook removed', d.updated_at = datetime(),
    d.lease_owner = null, d.lease_until = null
WITH DISTINCT w
DETACH DELETE w
RETURN $id AS id
"""
