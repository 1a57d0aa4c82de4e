"""Sites (balsam-api.md §3.1, §4.1) through the official SDK: client.Site.objects.*

Caveat of the SDK: `client.Site` re-binds the *global* `Site.objects` manager to
that client, and `site.save()` / `site.delete()` use whichever client was bound
last. Tests with two users therefore always go through `clientN.Site` right
before the call they mean to make as that user.
"""

from __future__ import annotations

from sites_common import *  # noqa: F401,F403  (the shared kit of these modules)


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
