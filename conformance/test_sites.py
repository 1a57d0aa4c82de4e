"""Sites (balsam-api.md §3.1, §4.1) through the official SDK: client.Site.objects.*

Caveat of the SDK: `client.Site` re-binds the *global* `Site.objects` manager to
that client, and `site.save()` / `site.delete()` use whichever client was bound
last. Tests with two users therefore always go through `clientN.Site` right
before the call they mean to make as that user.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

import pytest

from helpers import (
    NAIVE_ISO_RE,
    RawAPI,
    assert_422,
    assert_json_content_type,
    assert_naive_recent,
    assert_status,
    describe,
    expect_http_error,
    http_error_of,
    unique,
    utcnow,
)

NOT_FOUND = {"error": "Not found"}
DUP_SITE = {"detail": "A site with this name already exists"}

FULL_SITE_FIELDS = dict(
    globus_endpoint_id=UUID("ddb59aef-6d04-11e5-ba46-22000b92c6ec"),
    backfill_windows={"default": [{"num_nodes": 31, "wall_time_min": 45}], "debug": []},
    queued_jobs={
        123: {
            "scheduler_id": 123,
            "state": "queued",
            "queue": "default",
            "num_nodes": 2,
            "wall_time_min": 30,
            "project": "p",
            "time_remaining_min": 30,
            "queued_time_min": 3,
        }
    },
    optional_batch_job_params={"singularity_prime_cache": "no", "enable_ssh": "1"},
    allowed_projects=["datascience", "materials-adsp"],
    allowed_queues={"debug-cache-quad": {"max_nodes": 8, "max_walltime": 60, "max_queued_jobs": 1}},
    transfer_locations={
        "APS-DTN": "globus://ddb59aef-6d04-11e5-ba46-22000b92c6ec",
        "MyCluster": "rsync://user@hostname.mycluster",
    },
)

# The same values as they appear on the wire / in display_dict().
FULL_SITE_JSON = {
    "globus_endpoint_id": "ddb59aef-6d04-11e5-ba46-22000b92c6ec",
    "backfill_windows": {"default": [{"num_nodes": 31, "wall_time_min": 45}], "debug": []},
    "queued_jobs": {
        "123": {
            "scheduler_id": 123,
            "state": "queued",
            "queue": "default",
            "num_nodes": 2,
            "wall_time_min": 30,
            "project": "p",
            "time_remaining_min": 30,
            "queued_time_min": 3,
        }
    },
    "optional_batch_job_params": {"singularity_prime_cache": "no", "enable_ssh": "1"},
    "allowed_projects": ["datascience", "materials-adsp"],
    "allowed_queues": {"debug-cache-quad": {"max_nodes": 8, "max_walltime": 60, "max_queued_jobs": 1}},
    "transfer_locations": {
        "APS-DTN": "globus://ddb59aef-6d04-11e5-ba46-22000b92c6ec",
        "MyCluster": "rsync://user@hostname.mycluster",
    },
}

SITE_KEYS = {
    "id",
    "name",
    "path",
    "globus_endpoint_id",
    "backfill_windows",
    "queued_jobs",
    "optional_batch_job_params",
    "allowed_projects",
    "allowed_queues",
    "transfer_locations",
    "last_refresh",
    "creation_date",
}


def new_site(client, **kw):
    kw.setdefault("name", unique("site"))
    kw.setdefault("path", f"/projects/{unique('p')}")
    return client.Site.objects.create(**kw)


# --- create ------------------------------------------------------------------------
def test_create_site_minimal(client) -> None:
    name = unique("site")
    before = utcnow()
    site = client.Site.objects.create(name=name, path="/projects/foo")
    after = utcnow()

    assert isinstance(site.id, int) and site.id > 0
    assert site.name == name
    assert site.path == Path("/projects/foo")
    assert site.globus_endpoint_id is None
    assert site.backfill_windows == {}
    assert site.queued_jobs == {}
    assert site.optional_batch_job_params == {}
    assert site.allowed_projects == []
    assert site.allowed_queues == {}
    assert site.transfer_locations == {}
    # §1.3.1: Site datetimes are NAIVE UTC (the CLI compares them with utcnow()).
    assert_naive_recent(site.last_refresh, before, after, "last_refresh")
    assert_naive_recent(site.creation_date, before, after, "creation_date")
    assert site.creation_date <= site.last_refresh


def test_create_site_all_fields_and_read_back_equal(client) -> None:
    site = new_site(client, **FULL_SITE_FIELDS)
    shown = site.display_dict()
    for key, expected in FULL_SITE_JSON.items():
        assert shown[key] == expected, f"{key}: {shown[key]!r} != {expected!r}"
    # §1.3: the object returned by the mutation equals what a later read returns.
    fetched = client.Site.objects.get(id=site.id)
    assert fetched == site, f"\ncreated: {site.display_dict()}\nfetched: {fetched.display_dict()}"


def test_site_instance_save_creates(client) -> None:
    SiteModel = client.Site
    name = unique("site")
    site = SiteModel(name=name, path="/projects/instance")
    assert site.id is None
    site.save()
    assert isinstance(site.id, int)
    assert site.last_refresh is not None and site.last_refresh.tzinfo is None
    assert client.Site.objects.get(name=name) == site


def test_duplicate_site_name_raises_after_400(client) -> None:
    name = unique("site")
    new_site(client, name=name)
    with expect_http_error(400, DUP_SITE):
        client.Site.objects.create(name=name, path="/projects/other")
    assert client.Site.objects.filter(name=name).count() == 1
    assert client.Site.objects.count() == 1


def test_same_site_name_allowed_for_different_users(client, client2) -> None:
    name = unique("shared")
    s1 = client.Site.objects.create(name=name, path="/u1/site")
    s2 = client2.Site.objects.create(name=name, path="/u2/site")
    assert s1.id != s2.id
    assert [s.path for s in client.Site.objects.filter(name=name)] == [Path("/u1/site")]
    assert [s.path for s in client2.Site.objects.filter(name=name)] == [Path("/u2/site")]


# --- list / filter / get ---------------------------------------------------------------
@pytest.fixture
def three_sites(client):
    prefix = unique("flt")
    a = new_site(client, name=f"{prefix}-a", path=f"/data/{prefix}/alpha")
    b = new_site(client, name=f"{prefix}-b", path=f"/data/{prefix}/beta")
    c = new_site(client, name=f"{prefix}-c", path=f"/scratch/{prefix}/alpha2")
    return prefix, a, b, c


def ids(query) -> list:
    return [s.id for s in query]


def test_list_all_sites_ordered_by_id(client, three_sites) -> None:
    _, a, b, c = three_sites
    assert ids(client.Site.objects.all()) == [a.id, b.id, c.id]
    assert a.id < b.id < c.id
    assert client.Site.objects.count() == 3
    assert len(client.Site.objects.all()) == 3


def test_filter_sites_by_name_is_exact(client, three_sites) -> None:
    prefix, a, b, c = three_sites
    assert ids(client.Site.objects.filter(name=a.name)) == [a.id]
    assert ids(client.Site.objects.filter(name=prefix)) == []
    assert ids(client.Site.objects.filter(name=a.name.upper())) == []


def test_filter_sites_by_path_substring(client, three_sites) -> None:
    prefix, a, b, c = three_sites
    assert ids(client.Site.objects.filter(path="alpha")) == [a.id, c.id]
    assert ids(client.Site.objects.filter(path=f"/data/{prefix}")) == [a.id, b.id]
    assert ids(client.Site.objects.filter(path="beta")) == [b.id]
    assert ids(client.Site.objects.filter(path="ALPHA")) == []  # case-sensitive
    assert client.Site.objects.filter(path="alpha").count() == 2


def test_filter_sites_by_id_list(client, three_sites) -> None:
    _, a, b, c = three_sites
    assert ids(client.Site.objects.filter(id=[a.id, c.id])) == [a.id, c.id]
    assert ids(client.Site.objects.filter(id=[c.id, a.id])) == [a.id, c.id]  # still id order
    assert ids(client.Site.objects.filter(id=b.id)) == [b.id]
    assert ids(client.Site.objects.filter(id=[a.id, 2**31 - 1])) == [a.id]
    assert client.Site.objects.filter(id=[a.id, b.id, c.id]).count() == 3


def test_filter_sites_combined(client, three_sites) -> None:
    _, a, b, c = three_sites
    assert ids(client.Site.objects.filter(path="alpha", id=[b.id, c.id])) == [c.id]
    assert ids(client.Site.objects.filter(path="alpha", name=b.name)) == []


def test_get_site(client, three_sites) -> None:
    _, a, b, c = three_sites
    assert client.Site.objects.get(path="beta") == b
    assert client.Site.objects.get(id=c.id) == c
    with pytest.raises(client.Site.MultipleObjectsReturned):
        client.Site.objects.get(path="alpha")
    with pytest.raises(client.Site.DoesNotExist):
        client.Site.objects.get(name=unique("missing"))


def test_site_slicing_and_first(client, three_sites) -> None:
    _, a, b, c = three_sites
    qs = client.Site.objects.all()
    assert qs.first().id == a.id
    assert qs[1].id == b.id
    assert qs[2].id == c.id
    assert ids(qs[1:3]) == [b.id, c.id]
    assert ids(qs[0:1]) == [a.id]
    assert ids(qs[2:]) == [c.id]


def test_filter_sites_last_refresh_after(client, three_sites) -> None:
    _, a, b, c = three_sites
    all_ids = [a.id, b.id, c.id]
    # The SDK sends str(datetime): "YYYY-MM-DD HH:MM:SS.ffffff" (space separator), §1.4.
    assert ids(client.Site.objects.filter(last_refresh_after=utcnow() - timedelta(minutes=1))) == all_ids
    assert ids(client.Site.objects.filter(last_refresh_after=utcnow() + timedelta(hours=1))) == []
    # Aware values carry +00:00 and must be compared as the same instant.
    aware_now = datetime.now(timezone.utc)
    assert ids(client.Site.objects.filter(last_refresh_after=aware_now - timedelta(minutes=1))) == all_ids
    assert ids(client.Site.objects.filter(last_refresh_after=aware_now + timedelta(hours=1))) == []

    # Refresh b (PUT sets last_refresh = now); `>=` with b's exact microsecond value selects only b.
    time.sleep(0.05)
    b.allowed_projects = ["refreshed"]
    b.save()
    assert b.last_refresh > c.last_refresh
    assert ids(client.Site.objects.filter(last_refresh_after=b.last_refresh)) == [b.id]
    # Same instant expressed in another offset (+02:00) is converted to UTC.
    tz2 = timezone(timedelta(hours=2))
    shifted = b.last_refresh.replace(tzinfo=timezone.utc).astimezone(tz2)
    assert ids(client.Site.objects.filter(last_refresh_after=shifted)) == [b.id]


def test_empty_id_list_makes_no_request(client, three_sites) -> None:
    assert list(client.Site.objects.filter(id=[])) == []
    assert client.Site.objects.filter(id=[]).count() == 0


# --- update (save) --------------------------------------------------------------------
def test_save_updates_fields_and_refreshes_timestamp(client) -> None:
    site = new_site(client, **FULL_SITE_FIELDS)
    old_refresh, old_created = site.last_refresh, site.creation_date
    time.sleep(0.05)
    new_name = unique("renamed")
    site.name = new_name
    site.path = "/new/location"
    before = utcnow()
    site.save()
    after = utcnow()

    assert site.name == new_name
    assert site.path == Path("/new/location")
    assert site.creation_date == old_created, "creation_date must not change on update"
    assert_naive_recent(site.last_refresh, before, after, "last_refresh after PUT")
    assert site.last_refresh > old_refresh
    # Untouched fields are preserved.
    shown = site.display_dict()
    for key, expected in FULL_SITE_JSON.items():
        assert shown[key] == expected, key
    # The PUT response equals a later read.
    assert client.Site.objects.get(id=site.id) == site
    assert client.Site.objects.filter(name=new_name).count() == 1


def test_save_agent_style_scheduler_update(client) -> None:
    """The scheduler service PUTs only backfill_windows + queued_jobs (client-usage.md (b))."""
    site = new_site(client, allowed_projects=["keep-me"])
    site.backfill_windows = {"default": [{"num_nodes": 4, "wall_time_min": 20}]}
    site.queued_jobs = {
        7: {
            "scheduler_id": 7,
            "state": "running",
            "queue": "default",
            "num_nodes": 1,
            "wall_time_min": 10,
            "project": "p",
            "time_remaining_min": 5,
            "queued_time_min": 0,
        }
    }
    site.save()
    fetched = client.Site.objects.get(id=site.id)
    assert fetched.display_dict()["backfill_windows"] == {"default": [{"num_nodes": 4, "wall_time_min": 20}]}
    assert set(fetched.queued_jobs) == {7}
    assert fetched.queued_jobs[7].state.value == "running"
    assert fetched.allowed_projects == ["keep-me"]
    assert fetched == site


def test_save_clears_dict_and_list_fields(client) -> None:
    site = new_site(client, **FULL_SITE_FIELDS)
    site.backfill_windows = {}
    site.queued_jobs = {}
    site.allowed_projects = []
    site.transfer_locations = {}
    site.globus_endpoint_id = None
    site.save()
    fetched = client.Site.objects.get(id=site.id)
    assert fetched.backfill_windows == {}
    assert fetched.queued_jobs == {}
    assert fetched.allowed_projects == []
    assert fetched.transfer_locations == {}
    assert fetched.globus_endpoint_id is None
    assert fetched.allowed_queues == site.allowed_queues != {}
    assert fetched == site


@pytest.mark.upstream_differs("renaming onto a taken name is a 500 upstream (§4.1)")
def test_rename_to_existing_name_fails(client) -> None:
    a = new_site(client)
    b = new_site(client)
    b_name = b.name
    b.name = a.name
    # Upstream answers 500 (unique constraint); the spec asks for a 4xx (400 preferred).
    try:
        b.save()
    except Exception as exc:  # noqa: BLE001
        http = http_error_of(exc)
        assert http is not None, f"expected an HTTP error, got {exc!r}"
        assert 400 <= http.response.status_code < 500, f"rename to a taken name: {describe(http.response)}"
    else:
        raise AssertionError("renaming a site to an existing name succeeded")
    assert client.Site.objects.filter(name=a.name).count() == 1
    assert client.Site.objects.get(id=b.id).name == b_name


# --- delete -----------------------------------------------------------------------------
@pytest.mark.upstream_differs("upstream sends a body with 204, which breaks the kept-alive connection (§1.3.3)")
def test_delete_site(client) -> None:
    keep = new_site(client)
    site = new_site(client)
    sid = site.id
    site.delete()
    assert site.id is None  # the SDK clears the id after a successful DELETE
    assert client.Site.objects.filter(id=sid).count() == 0
    with pytest.raises(client.Site.DoesNotExist):
        client.Site.objects.get(id=sid)
    assert ids(client.Site.objects.all()) == [keep.id]


def test_delete_missing_site_raises_404(client, raw_user: RawAPI) -> None:
    site = new_site(client)
    assert_status(raw_user.delete(f"/sites/{site.id}"), 204)
    with expect_http_error(404, NOT_FOUND):
        site.delete()


@pytest.mark.upstream_differs("upstream sends a body with 204, which breaks the kept-alive connection (§1.3.3)")
def test_deleted_site_name_can_be_reused(client) -> None:
    site = new_site(client)
    name = site.name
    site.delete()
    again = client.Site.objects.create(name=name, path="/reused")
    assert again.name == name


# --- tenancy ----------------------------------------------------------------------------
def test_other_users_site_is_invisible(client, client2, raw_user2: RawAPI) -> None:
    mine = new_site(client, **FULL_SITE_FIELDS)
    theirs = new_site(client2)

    assert ids(client2.Site.objects.all()) == [theirs.id]
    assert client2.Site.objects.count() == 1
    assert client2.Site.objects.filter(id=mine.id).count() == 0
    assert ids(client2.Site.objects.filter(name=mine.name)) == []
    assert ids(client2.Site.objects.filter(path=mine.path.as_posix())) == []
    with pytest.raises(client2.Site.DoesNotExist):
        client2.Site.objects.get(id=mine.id)

    resp = raw_user2.get(f"/sites/{mine.id}")
    assert_status(resp, 404)
    assert resp.json() == NOT_FOUND
    assert ids(client.Site.objects.all()) == [mine.id]


def test_other_users_site_cannot_be_updated_or_deleted(client, client2, raw_user2: RawAPI) -> None:
    mine = new_site(client)
    original_name = mine.name

    resp = raw_user2.put(f"/sites/{mine.id}", json={"name": "hijacked"})
    assert_status(resp, 404)
    assert resp.json() == NOT_FOUND
    resp = raw_user2.delete(f"/sites/{mine.id}")
    assert_status(resp, 404)
    assert resp.json() == NOT_FOUND

    # Through the SDK: bind the Site manager to user 2, then save/delete user 1's object.
    client2.Site  # noqa: B018  (re-binds Site.objects to client2)
    mine.name = "hijacked-sdk"
    with expect_http_error(404, NOT_FOUND):
        mine.save()
    with expect_http_error(404, NOT_FOUND):
        mine.delete()

    fetched = client.Site.objects.get(id=mine.id)
    assert fetched.name == original_name


# --- wire-level checks (plain HTTP) -------------------------------------------------------
def test_post_site_wire_format(raw_user: RawAPI) -> None:
    body = {"name": unique("raw"), "path": "/projects/raw", **FULL_SITE_JSON}
    resp = raw_user.post("/sites/", json=body)
    assert_status(resp, 201)
    assert_json_content_type(resp)
    site = resp.json()
    assert set(site) == SITE_KEYS, f"unexpected keys: {set(site) ^ SITE_KEYS}"
    for key, expected in FULL_SITE_JSON.items():
        assert site[key] == expected, key
    for key in ("last_refresh", "creation_date"):
        assert NAIVE_ISO_RE.match(site[key]), f"{key} must be naive isoformat(): {site[key]!r}"

    # The POST response equals the list read, byte-for-byte in every field (microseconds included).
    listed = raw_user.get("/sites/", params={"id": site["id"]}).json()
    assert listed == {"count": 1, "results": [site]}
    single = raw_user.get(f"/sites/{site['id']}")
    assert_status(single, 200)
    assert single.json() == site


def test_site_path_is_normalised(raw_user: RawAPI) -> None:
    resp = raw_user.post("/sites/", json={"name": unique("norm"), "path": "/a//b/./c/"})
    assert_status(resp, 201)
    assert resp.json()["path"] == "/a/b/c"


def test_site_relative_path_rejected(raw_user: RawAPI) -> None:
    resp = raw_user.post("/sites/", json={"name": unique("rel"), "path": "relative/dir"})
    assert_422(resp, ["body", "path"], msg="path must be absolute")


def test_site_missing_name_rejected(raw_user: RawAPI) -> None:
    resp = raw_user.post("/sites/", json={"path": "/x"})
    assert_422(resp, ["body", "name"], type_="value_error.missing")


def test_site_uuid_lowercased(raw_user: RawAPI) -> None:
    resp = raw_user.post(
        "/sites/",
        json={"name": unique("uuid"), "path": "/x", "globus_endpoint_id": "DDB59AEF-6D04-11E5-BA46-22000B92C6EC"},
    )
    assert_status(resp, 201)
    assert resp.json()["globus_endpoint_id"] == "ddb59aef-6d04-11e5-ba46-22000b92c6ec"


def test_site_transfer_location_needs_scheme(raw_user: RawAPI) -> None:
    resp = raw_user.post(
        "/sites/", json={"name": unique("url"), "path": "/x", "transfer_locations": {"bad": "no-scheme-here"}}
    )
    assert_status(resp, 422)


def test_put_empty_body_refreshes_last_refresh(raw_user: RawAPI) -> None:
    site = raw_user.post("/sites/", json={"name": unique("hb"), "path": "/hb"}).json()
    time.sleep(0.05)
    resp = raw_user.put(f"/sites/{site['id']}", json={})
    assert_status(resp, 200)
    updated = resp.json()
    assert NAIVE_ISO_RE.match(updated["last_refresh"]), updated["last_refresh"]
    assert datetime.fromisoformat(updated["last_refresh"]) > datetime.fromisoformat(site["last_refresh"])
    assert {k: v for k, v in updated.items() if k != "last_refresh"} == {
        k: v for k, v in site.items() if k != "last_refresh"
    }


def test_put_ignores_unknown_and_readonly_fields(raw_user: RawAPI) -> None:
    site = raw_user.post("/sites/", json={"name": unique("ro"), "path": "/ro"}).json()
    body = dict(site)
    body.update(
        id=site["id"] + 1000,
        owner_id=12345,
        num_nodes=99,
        creation_date="2000-01-01T00:00:00",
        last_refresh="2000-01-01T00:00:00",
        allowed_projects=["p1"],
    )
    resp = raw_user.put(f"/sites/{site['id']}", json=body)
    assert_status(resp, 200)
    updated = resp.json()
    assert updated["id"] == site["id"]
    assert updated["creation_date"] == site["creation_date"]
    assert updated["last_refresh"] != "2000-01-01T00:00:00"
    assert updated["allowed_projects"] == ["p1"]
    assert "owner_id" not in updated and "num_nodes" not in updated


@pytest.mark.upstream_differs("upstream sends a body with 204, which breaks the kept-alive connection (§1.3.3)")
def test_delete_site_answers_204_empty(raw_user: RawAPI) -> None:
    site = raw_user.post("/sites/", json={"name": unique("del"), "path": "/del"}).json()
    resp = raw_user.delete(f"/sites/{site['id']}")
    assert_status(resp, 204)
    assert resp.content == b"", f"204 must have an empty body (§1.3.3), got {resp.content!r}"
    resp = raw_user.delete(f"/sites/{site['id']}")
    assert_status(resp, 404)
    assert resp.json() == NOT_FOUND


def test_site_item_routes_404_and_422(raw_user: RawAPI) -> None:
    resp = raw_user.get("/sites/2147483646")
    assert_status(resp, 404)
    assert resp.json() == NOT_FOUND
    resp = raw_user.get("/sites/abc")
    assert_422(resp, ["path", "site_id"])


def test_sites_pagination_params(raw_user: RawAPI) -> None:
    made = [raw_user.post("/sites/", json={"name": unique("pg"), "path": f"/pg/{i}"}).json() for i in range(3)]
    made_ids = [s["id"] for s in made]
    resp = raw_user.get("/sites/", params={"limit": 0, "offset": 0})
    assert_status(resp, 200)
    assert resp.json() == {"count": 3, "results": []}
    page = raw_user.get("/sites/", params={"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and [s["id"] for s in page["results"]] == made_ids[1:2]
    page = raw_user.get("/sites/", params={"offset": 2}).json()
    assert page["count"] == 3 and [s["id"] for s in page["results"]] == made_ids[2:]
    page = raw_user.get("/sites/", params={"limit": 100000}).json()
    assert [s["id"] for s in page["results"]] == made_ids
    assert_422(raw_user.get("/sites/", params={"limit": 100001}), ["query", "limit"], type_="value_error.number.not_le")
    assert_422(raw_user.get("/sites/", params={"offset": -1}), ["query", "offset"], type_="value_error.number.not_ge")


@pytest.mark.upstream_differs("upstream has no lower bound on limit (§1.5)")
def test_sites_negative_limit_rejected(raw_user: RawAPI) -> None:
    assert_status(raw_user.get("/sites/", params={"limit": -1}), 422)


def test_sites_unknown_query_params_ignored(raw_user: RawAPI) -> None:
    raw_user.post("/sites/", json={"name": unique("uq"), "path": "/uq"})
    resp = raw_user.get("/sites/", params={"bogus": "1", "ordering": "name"})
    assert_status(resp, 200)
    assert resp.json()["count"] == 1


def test_sites_collection_without_trailing_slash(raw_user: RawAPI) -> None:
    raw_user.post("/sites/", json={"name": unique("slash"), "path": "/s"})
    resp = raw_user.get("/sites")  # either served directly or 307 -> /sites/ (followed)
    assert_status(resp, 200)
    assert resp.json()["count"] == 1
    for hop in resp.history:
        assert hop.status_code == 307, describe(hop)


# --- field coercion and validation (§1.2) ---------------------------------------------------
def test_site_string_fields_coerce_scalars(raw_user: RawAPI) -> None:
    """str-typed fields take JSON numbers/booleans and store Python's str() of them."""
    resp = raw_user.post(
        "/sites/",
        json={
            "name": unique("coerce"),
            "path": "/c",
            "optional_batch_job_params": {"a": 1, "b": 2.0, "c": True, "d": 1e20, "e": "x"},
            "allowed_projects": [1, True, "proj"],
        },
    )
    assert_status(resp, 201)
    site = resp.json()
    assert site["optional_batch_job_params"] == {"a": "1", "b": "2.0", "c": "True", "d": "1e+20", "e": "x"}
    assert site["allowed_projects"] == ["1", "True", "proj"]


def test_site_string_fields_reject_null(raw_user: RawAPI) -> None:
    resp = raw_user.post("/sites/", json={"name": unique("null"), "path": "/c", "optional_batch_job_params": {"a": None}})
    assert_422(resp, ["body", "optional_batch_job_params", "a"], type_="type_error.none.not_allowed")


def test_site_int_fields_coerce(raw_user: RawAPI) -> None:
    """int fields accept integral floats and numeric strings, and truncate fractional floats."""
    resp = raw_user.post(
        "/sites/",
        json={
            "name": unique("ints"),
            "path": "/c",
            "backfill_windows": {"q": [{"num_nodes": 31.7, "wall_time_min": "45"}]},
            "allowed_queues": {"q": {"max_nodes": "8", "max_walltime": 60.0, "max_queued_jobs": 1}},
        },
    )
    assert_status(resp, 201)
    site = resp.json()
    assert site["backfill_windows"] == {"q": [{"num_nodes": 31, "wall_time_min": 45}]}
    assert site["allowed_queues"] == {"q": {"max_nodes": 8, "max_walltime": 60, "max_queued_jobs": 1}}


@pytest.mark.parametrize(
    "given, stored",
    [
        ("/a//b/./c/", "/a/b/c"),
        ("/a/../b/./c//", "/a/../b/c"),  # `..` is kept
        ("/", "/"),
        ("//double", "//double"),  # PurePosixPath keeps exactly two leading slashes
    ],
)
def test_site_path_normalisation_cases(raw_user: RawAPI, given: str, stored: str) -> None:
    resp = raw_user.post("/sites/", json={"name": unique("pn"), "path": given})
    assert_status(resp, 201)
    assert resp.json()["path"] == stored


@pytest.mark.parametrize("path", ["", "rel", "./x"])
def test_site_path_must_be_absolute_cases(raw_user: RawAPI, path: str) -> None:
    resp = raw_user.post("/sites/", json={"name": unique("abs"), "path": path})
    assert_422(resp, ["body", "path"], msg="path must be absolute")


def test_site_nested_validation(raw_user: RawAPI) -> None:
    resp = raw_user.post("/sites/", json={"name": unique("q"), "path": "/x", "allowed_queues": {"q": {"max_nodes": 1}}})
    assert_422(resp, ["body", "allowed_queues", "q", "max_walltime"], type_="value_error.missing")
    assert_422(resp, ["body", "allowed_queues", "q", "max_queued_jobs"], type_="value_error.missing")
    resp = raw_user.post("/sites/", json={"name": unique("qj"), "path": "/x", "queued_jobs": {"abc": {}}})
    assert_status(resp, 422)
    assert all(d["loc"][:2] == ["body", "queued_jobs"] for d in resp.json()["detail"]), describe(resp)
    resp = raw_user.post("/sites/", json={"name": unique("bw"), "path": "/x", "backfill_windows": {"q": {"n": 1}}})
    assert_status(resp, 422)
    resp = raw_user.post("/sites/", json={"name": unique("u"), "path": "/x", "globus_endpoint_id": "not-a-uuid"})
    assert_422(resp, ["body", "globus_endpoint_id"], type_="type_error.uuid")


def test_site_uuid_without_hyphens(raw_user: RawAPI) -> None:
    resp = raw_user.post(
        "/sites/", json={"name": unique("uh"), "path": "/x", "globus_endpoint_id": "ddb59aef6d0411e5ba4622000b92c6ec"}
    )
    assert_status(resp, 201)
    assert resp.json()["globus_endpoint_id"] == "ddb59aef-6d04-11e5-ba46-22000b92c6ec"


def test_site_bad_bodies(raw_user: RawAPI) -> None:
    resp = raw_user.post("/sites/", data="{bad", headers={"Content-Type": "application/json"})
    assert_status(resp, 422)
    detail = resp.json()["detail"]
    assert detail[0]["type"] == "value_error.jsondecode" and detail[0]["loc"][0] == "body", describe(resp)
    assert_422(raw_user.post("/sites/", json=[1]), ["body"], type_="type_error.dict")


@pytest.mark.upstream_differs("a 101-character name is a 500 upstream (§1.6)")
def test_site_name_length_limit(raw_user: RawAPI) -> None:
    """Upstream's column is 100 chars (500 beyond); a re-implementation may store it or answer 400/422."""
    ok = raw_user.post("/sites/", json={"name": "n" * 100, "path": "/x"})
    assert_status(ok, 201)
    assert ok.json()["name"] == "n" * 100
    resp = raw_user.post("/sites/", json={"name": "m" * 101, "path": "/x"})
    assert resp.status_code in (201, 400, 422), describe(resp)
    if resp.status_code == 201:
        assert resp.json()["name"] == "m" * 101


def test_site_unicode_round_trip(client) -> None:
    name = "sïte-☃-" + unique("u")
    site = client.Site.objects.create(name=name, path="/dätä/ünï")
    assert site.name == name and site.path == Path("/dätä/ünï")
    assert client.Site.objects.get(name=name) == site
    assert ids(client.Site.objects.filter(path="ünï")) == [site.id]


def test_put_replaces_dict_fields_whole(client) -> None:
    site = new_site(client, transfer_locations={"a": "globus://aaa"}, optional_batch_job_params={"x": "1"})
    site.transfer_locations = {"b": "rsync://user@host"}
    site.save()
    fetched = client.Site.objects.get(id=site.id)
    assert fetched.display_dict()["transfer_locations"] == {"b": "rsync://user@host"}
    assert fetched.optional_batch_job_params == {"x": "1"}


# --- query parameters (§1.4, §1.5) -------------------------------------------------------------
def test_last_refresh_after_formats(raw_user: RawAPI) -> None:
    site = raw_user.post("/sites/", json={"name": unique("dt"), "path": "/dt"}).json()
    t = datetime.fromisoformat(site["last_refresh"])  # naive UTC

    def count(value: str) -> int:
        resp = raw_user.get("/sites/", params={"last_refresh_after": value})
        assert_status(resp, 200)
        return resp.json()["count"]

    hour = timedelta(hours=1)
    ist = timezone(timedelta(hours=5, minutes=30))
    pst = timezone(timedelta(hours=-8))
    cases = {
        (t - hour).strftime("%Y-%m-%d %H:%M"): 1,  # no seconds
        (t - hour).strftime("%Y-%m-%dT%H:%M:%S.1"): 1,  # short fraction
        (t + hour).strftime("%Y-%m-%dT%H:%M:%SZ"): 0,
        (t - hour).strftime("%Y-%m-%dT%H:%M:%SZ"): 1,
        # Offsets: the same instants written in other zones.
        (t - hour).replace(tzinfo=timezone.utc).astimezone(ist).isoformat(): 1,
        (t + hour).replace(tzinfo=timezone.utc).astimezone(ist).isoformat(): 0,
        (t - hour).replace(tzinfo=timezone.utc).astimezone(pst).isoformat(): 1,
        (t + hour).replace(tzinfo=timezone.utc).astimezone(pst).isoformat(): 0,
        # Unix seconds.
        "0": 1,
        str((t - hour).replace(tzinfo=timezone.utc).timestamp()): 1,
        str(int((t + hour).replace(tzinfo=timezone.utc).timestamp())): 0,
        "9999999999": 0,
    }
    got = {value: count(value) for value in cases}
    assert got == cases


@pytest.mark.parametrize("value", ["garbage", "2020-01-02", "2020-13-01T00:00:00"])
def test_last_refresh_after_invalid(raw_user: RawAPI, value: str) -> None:
    resp = raw_user.get("/sites/", params={"last_refresh_after": value})
    assert_422(resp, ["query", "last_refresh_after"], msg="invalid datetime format", type_="value_error.datetime")


def test_query_param_type_errors(raw_user: RawAPI) -> None:
    assert_422(raw_user.get("/sites/", params={"id": "abc"}), ["query", "id", 0], type_="type_error.integer")
    assert_422(
        raw_user.get("/sites/", params={"id": ["1", "x"]}), ["query", "id", 1], type_="type_error.integer"
    )
    assert_422(raw_user.get("/sites/", params={"limit": "abc"}), ["query", "limit"], type_="type_error.integer")


def test_repeated_single_valued_param_takes_last(raw_user: RawAPI) -> None:
    site = raw_user.post("/sites/", json={"name": unique("last"), "path": "/l"}).json()
    resp = raw_user.get(f"/sites/?name=nope&name={site['name']}")
    assert_status(resp, 200)
    assert [s["id"] for s in resp.json()["results"]] == [site["id"]]
    resp = raw_user.get(f"/sites/?name={site['name']}&name=nope")
    assert resp.json()["count"] == 0


def test_many_ids_are_chunked_by_the_sdk(client) -> None:
    """A list filter over 500 values makes the SDK send several GETs of <= 500 repeated `id=` keys."""
    real = [new_site(client).id for _ in range(3)]
    bogus = [2**31 - 1 - i for i in range(700)]  # ten-digit ids: ~8 KB of query string per request
    query = client.Site.objects.filter(id=bogus[:300] + real + bogus[300:])
    assert sorted(ids(query)) == real
    assert client.Site.objects.filter(id=bogus + real).count() == 3


def test_wrong_method_405(raw_user: RawAPI) -> None:
    for method, path in [("PATCH", "/sites/"), ("POST", "/sites/1"), ("PATCH", "/apps/"), ("POST", "/apps/1")]:
        resp = raw_user.request(method, path, json={})
        assert_status(resp, 405)
        assert resp.json() == {"detail": "Method Not Allowed"}


# --- concurrency (bounded, loopback only) ------------------------------------------------------
@pytest.mark.upstream_differs("racing duplicates can hit the unique constraint: 500 upstream")
def test_concurrent_creates_same_name(raw_user: RawAPI) -> None:
    name = unique("race")
    results = run_concurrently(
        lambda _: raw_user.with_token(raw_user.token).post("/sites/", json={"name": name, "path": "/race"}), range(12)
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [400] * 11, [describe(r) for r in results if r.status_code not in (201, 400)]
    assert all(r.json() == DUP_SITE for r in results if r.status_code == 400)
    assert raw_user.get("/sites/", params={"name": name}).json()["count"] == 1


def test_concurrent_creates_and_updates(raw_user: RawAPI) -> None:
    prefix = unique("many")
    results = run_concurrently(
        lambda i: raw_user.with_token(raw_user.token).post("/sites/", json={"name": f"{prefix}-{i}", "path": "/m"}),
        range(40),
    )
    assert [r.status_code for r in results] == [201] * 40, [describe(r) for r in results if r.status_code != 201]
    created = [r.json()["id"] for r in results]
    assert len(set(created)) == 40
    target = created[0]
    results = run_concurrently(
        lambda i: raw_user.with_token(raw_user.token).put(f"/sites/{target}", json={"allowed_projects": [f"p{i}"]}),
        range(40),
    )
    assert [r.status_code for r in results] == [200] * 40, [describe(r) for r in results if r.status_code != 200]
    assert raw_user.get("/sites/", params={"limit": 0}).json()["count"] == 40


def run_concurrently(fn, items, workers: int = 8) -> list:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))
