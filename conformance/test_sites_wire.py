"""Sites at the wire (balsam-api.md §1.2, §3.1, §4.1): plain HTTP checks of the bodies,
normalisation, coercion, status codes and paging that the SDK does not show."""

from __future__ import annotations

from sites_common import *  # noqa: F401,F403  (the shared kit of these modules)


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
