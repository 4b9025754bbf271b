"""Webhooks over GraphQL (each caller manages its own receiver's; the secret shown once and
never stored; addresses checked), alerts seen by their receivers only through the
generic lookups, and deliveries that survive a restart of the service."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver

from core.settings import get_settings
from graph import access, alerts, outbox, webhooks
from graph.access import Statement
from graph.drivers import Connection
from tests.saved_query_fixture import write_fixture
from tests.test_leads import data, error
from tests.test_webhooks import Receiver, deliveries, recipe, register

REGISTER = """mutation($url: String!) { registerWebhook(url: $url) {
  secret webhook { id url createdBy deliveries { status count } } } }"""
LIST = "query { webhooks { id url createdBy } }"
REMOVE = "mutation($id: ID!) { removeWebhook(id: $id) }"
ABOUT_BRAND = """query($id: ID!) { brand(brandId: $id) {
  aboutIn(first: 50) { totalCount nodes { receiver alert } } } }"""
ABOUT_SHOP = """query($id: ID!) { shop(shopId: $id) {
  aboutIn(first: 50) { totalCount nodes { receiver alert } } } }"""


@pytest.fixture(scope="module")
def allow_private() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALLIANCE_WEBHOOK_ALLOW_PRIVATE", "true")
        patch.setenv("ALLIANCE_WEBHOOK_DELIVERY", "false")
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def api(driver: Driver, database: str, neo4j_connection: Connection,
        allow_private: None) -> Iterator[TestClient]:
    from api.main import create_app

    driver.execute_query("MATCH (n) DETACH DELETE n", database_=database)
    write_fixture(driver, database)
    alerts.run_all(driver, database)
    with TestClient(create_app(connection=neo4j_connection)) as client:
        yield client


def _urls(api: TestClient, who: str) -> list[str]:
    return sorted(w["url"] for w in data(api, who, LIST)["webhooks"])


def test_a_caller_registers_lists_and_removes_its_own_receivers_webhooks(
    api: TestClient, driver: Driver, database: str,
) -> None:
    url = "http://127.0.0.1:9/agency-two"
    made = data(api, "liaison:AG2", REGISTER, url=url)["registerWebhook"]
    webhook_id = made["webhook"]["id"]
    assert made["webhook"]["url"] == url and made["webhook"]["deliveries"] == []
    assert made["secret"] == webhooks.secret_for(get_settings().webhook_key(), webhook_id)
    assert url in _urls(api, "liaison:AG2")
    assert url not in _urls(api, "liaison:AG1") and url not in _urls(api, "investigator")
    records, _, _ = driver.execute_query(
        "MATCH (w:Webhook {webhook_id: $id}) RETURN properties(w) AS p", {"id": webhook_id},
        database_=database)
    stored = records[0]["p"]
    assert stored["receiver"] == "police_liaison:AG2" and stored["agency_id"] == "AG2"
    assert made["secret"] not in json.dumps(stored, default=str)  # never stored
    assert error(api, "liaison:AG1", REMOVE, id=webhook_id)["extensions"]["code"] == "NOT_FOUND"
    assert data(api, "liaison:AG2", REMOVE, id=webhook_id) == {"removeWebhook": True}
    assert url not in _urls(api, "liaison:AG2")
    records, _, _ = driver.execute_query(
        "MATCH (e:AuditEvent) WHERE $id IN e.ids RETURN e.action AS action, e.details AS d "
        "ORDER BY e.at", {"id": webhook_id}, database_=database)
    assert [r["action"] for r in records] == ["webhook.register", "webhook.remove"]
    assert "127.0.0.1" in records[0]["d"] and "agency-two" not in records[0]["d"]


def test_addresses_are_checked_and_the_platform_has_no_webhooks(
    api: TestClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = error(api, "investigator", REGISTER, url="ftp://example.org/x")
    assert bad["extensions"]["code"] == "BAD_WEBHOOK_URL"
    monkeypatch.setenv("ALLIANCE_WEBHOOK_ALLOW_PRIVATE", "false")
    get_settings.cache_clear()
    try:
        private = error(api, "brand:B1", REGISTER, url="http://127.0.0.1:8080/hook")
        assert private["extensions"]["code"] == "BAD_WEBHOOK_URL"
        assert "private" in private["message"]
    finally:
        monkeypatch.setenv("ALLIANCE_WEBHOOK_ALLOW_PRIVATE", "true")
        get_settings.cache_clear()
    platform = error(api, "platform", REGISTER, url="http://127.0.0.1:9/p")
    assert platform["extensions"]["code"] == "FORBIDDEN"


def test_a_receiver_has_a_bounded_number_of_webhooks(api: TestClient) -> None:
    for n in range(webhooks.MAX_PER_RECEIVER):
        data(api, "brand:B2", REGISTER, url=f"http://127.0.0.1:9/{n}")
    over = error(api, "brand:B2", REGISTER, url="http://127.0.0.1:9/over")
    assert over["extensions"]["code"] == "TOO_MANY_WEBHOOKS"
    assert len(_urls(api, "brand:B2")) == webhooks.MAX_PER_RECEIVER


def _about(api: TestClient, who: str, query: str, key: str) -> set[tuple[str, str]]:
    found = data(api, who, query, id=key)
    node = next(iter(found.values()))
    if node is None:
        return set()
    return {(a["receiver"], a["alert"]) for a in node["aboutIn"]["nodes"]}


def test_an_alert_is_seen_by_its_receivers_only_through_the_generic_lookups(
    api: TestClient,
) -> None:
    brand_alert = "alert-counterfeit-purchase-for-brand"
    assert _about(api, "brand:B1", ABOUT_BRAND, "B1") == {("brand_member:B1", brand_alert)}
    assert _about(api, "brand:B2", ABOUT_BRAND, "B1") == set()  # B1 seen, not B1's alerts
    assert _about(api, "investigator", ABOUT_BRAND, "B1") == set()
    assert _about(api, "admin", ABOUT_BRAND, "B1") == set()
    site_alert = "alert-shop-at-known-site"
    assert _about(api, "investigator", ABOUT_SHOP, "SH3") == {("investigator", site_alert)}
    assert _about(api, "admin", ABOUT_SHOP, "SH3") == set()


def _wait(until: Any, what: str, seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if until():
            return
        time.sleep(0.2)
    raise AssertionError(f"still waiting for {what}")


def test_a_delivery_waits_across_a_restart_of_the_service(
    clean_db: Driver, database: str, neo4j_connection: Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from api.main import create_app

    monkeypatch.setenv("ALLIANCE_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("ALLIANCE_WEBHOOK_DELIVERY", "true")
    monkeypatch.setenv("ALLIANCE_WEBHOOK_TIMEOUT_SECONDS", "2")
    get_settings.cache_clear()
    receiver = Receiver()  # down: nothing listens yet
    webhook_id = register(clean_db, database, receiver.url)
    access.write(clean_db, database, [
        Statement("CREATE (:Alert {alert_id: 'restart-1', alert: 'alert-test', "
                  "receiver: 'investigator', status: 'new', keys: '{}', row: '{}'})"),
        Statement(outbox.ENQUEUE, {"ids": ["restart-1"]})])
    try:
        with TestClient(create_app(connection=neo4j_connection)):
            _wait(lambda: deliveries(clean_db, database)[0].get("last_error") is not None,
                  "a first attempt by the service")
        [before] = deliveries(clean_db, database)
        assert before["status"] == "pending" and before["attempts"] >= 1
        assert "Connect" in before["last_error"] or "interrupted" in before["last_error"]
        receiver.start()
        with TestClient(create_app(connection=neo4j_connection)):
            _wait(lambda: deliveries(clean_db, database)[0]["status"] == "delivered",
                  "the delivery after the restart")
        [(headers, body)] = receiver.got
        assert headers["Idempotency-Key"] == before["delivery_id"]
        secret = webhooks.secret_for(get_settings().webhook_key(), webhook_id)
        assert recipe()(secret, body, headers["X-Alliance-Timestamp"],
                        headers["X-Alliance-Signature"])
    finally:
        receiver.stop()
        get_settings.cache_clear()
