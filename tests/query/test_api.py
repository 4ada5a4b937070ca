"""The HTTP API over the seeded archive: results, JSON errors, auth, metrics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from db.models_daemon import FetchRequest

from .apps import TOKEN, app_for
from .seed import Archive


@pytest.fixture
def client(shared_arch: Archive) -> Iterator[TestClient]:
    with TestClient(app_for(shared_arch), raise_server_exceptions=False) as c:
        yield c


def test_list_and_search(client: TestClient, shared_arch: Archive) -> None:
    body = client.get("/articles", params={"limit": 2}).json()
    assert [a["id"] for a in body["items"]] == [shared_arch.ids["running"], shared_arch.ids["flood"]]
    assert body["items"][0]["source"] == "geo" and body["items"][0]["snippet"] is None
    nxt = client.get("/articles", params={"limit": 2, "after": body["next_cursor"]}).json()
    assert nxt["items"][0]["id"] == shared_arch.ids["cricket"]

    found = client.get("/articles", params={"q": "marathon", "source": "geo"}).json()["items"]
    assert [a["id"] for a in found] == [shared_arch.ids["running"]]
    assert "<mark>marathon</mark>" in found[0]["snippet"].lower()
    assert found[0]["score"] > 0
    assert client.get("/articles", params={"has_duplicates": "true"}).json()["items"][0]["id"] == shared_arch.ids["bahrain_tribune"]


def test_article_detail_has_duplicates_and_provenance(client: TestClient, shared_arch: Archive) -> None:
    body = client.get(f"/articles/{shared_arch.ids['bahrain_dawn']}").json()
    assert body["provenance"] == {"title": "json-ld", "published_at": "meta"}
    assert body["story_id"] == shared_arch.ids["bahrain_dawn"]
    assert [d["article"]["id"] for d in body["duplicates"]] == [shared_arch.ids["bahrain_tribune"]]
    assert body["duplicates"][0]["containment"] == 0.9
    assert body["text"].startswith("ISLAMABAD")


def test_stories_and_sources(client: TestClient, shared_arch: Archive) -> None:
    stories = client.get("/stories").json()
    assert stories["next_cursor"] is None
    assert [m["id"] for m in stories["items"][0]["members"]] == [shared_arch.ids["bahrain_dawn"], shared_arch.ids["bahrain_tribune"]]
    assert client.get(f"/stories/{shared_arch.ids['bahrain_dawn']}").json()["size"] == 2
    sources = {s["name"]: s for s in client.get("/sources").json()}
    assert sources["dawn"]["configured"] and sources["dawn"]["articles"] == 2
    assert sources["dawn"]["last_run"]["counts"] == {"stored": 2}
    assert sources["quiet"]["enabled"] is False and sources["quiet"]["articles"] == 0
    assert sources["geo"]["configured"] is False


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/articles/999999", 404, "no article with id 999999"),
        ("/articles/0", 422, "article_id"),
        ("/articles/99999999999", 422, "article_id"),
        ("/articles/abc", 422, "article_id"),
        ("/articles?limit=0", 422, "limit"),
        ("/articles?limit=abc", 422, "limit"),
        ("/articles?since=yesterday", 422, "since"),
        ("/articles?since=0001-01-01T00:00:00%2B05:00", 422, "out of range"),
        ("/articles?q=%00", 422, "NUL"),
        ("/articles?source=a%00b", 422, "NUL"),
        ("/articles?q=---", 422, "no words"),
        ("/articles?after=bm9wZQ", 422, "cursor"),
        ("/articles?has_duplicates=maybe", 422, "has_duplicates"),
        ("/stories?after=zzz", 422, "cursor"),
        ("/stories/12345", 404, "no story"),
        ("/nowhere", 404, "Not Found"),
    ],
)
def test_errors_are_json_with_the_right_status(client: TestClient, path: str, status: int, message: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["status"] == status and message in error["message"]


def test_write_endpoint_is_disabled_without_a_token(client: TestClient) -> None:
    response = client.post("/sources/dawn/fetch", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 403 and "disabled" in response.json()["error"]["message"]


def test_write_endpoint_needs_the_right_token_and_queues_a_request(arch: Archive) -> None:
    with TestClient(app_for(arch, token=TOKEN)) as c:
        assert c.post("/sources/dawn/fetch").status_code == 401
        wrong = c.post("/sources/dawn/fetch", headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert c.post("/sources/nosuch/fetch", headers=auth).status_code == 404
        ok = c.post("/sources/dawn/fetch", headers=auth)
        assert ok.status_code == 202
        body = ok.json()
        assert body["source"] == "dawn" and body["status"] == "queued" and body["daemon_running"] is False
    with arch.sessions() as s:
        assert [r.source for r in s.scalars(select(FetchRequest))] == ["dawn"]


def test_health_metrics_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    client.get("/articles/1")
    client.get("/articles/424242")
    text = client.get("/metrics").text
    assert 'ingest_api_requests_total{method="GET",route="/articles/{article_id}",status="404"} 1.0' in text
    assert "ingest_articles 8.0" in text
    schema = client.get("/openapi.json").json()
    assert {"/articles", "/articles/{article_id}", "/stories", "/sources", "/sources/{name}/fetch", "/healthz", "/metrics"} <= set(schema["paths"])


def test_blank_form_fields_mean_no_filter(client: TestClient, shared_arch: Archive) -> None:
    response = client.get("/articles?q=running&source=&language=&author=&since=&until=&has_duplicates=")
    assert response.status_code == 200
    assert [a["id"] for a in response.json()["items"]] == [shared_arch.ids["running"]]
