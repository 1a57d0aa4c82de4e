"""Apps (balsam-api.md §3.2, §4.2): ApplicationDefinition.sync() and client.App.objects.*

ApplicationDefinition subclasses are built by module-level factories so that each
test gets fresh classes (the SDK caches the resolved site id and the serialized
payload on the class) and so that the `site` attribute can refer to a value of
the enclosing function.
"""

from __future__ import annotations

from apps_common import *  # noqa: F401,F403  (the shared kit of these modules)


# --- sync(): shell app ---------------------------------------------------------------------
def test_sync_shell_app_by_site_name(client, site) -> None:
    ApplicationDefinition._set_client(client)
    Hello = hello_app(site.name)
    Hello.sync()

    app_id = Hello.__app_id__
    assert isinstance(app_id, int) and app_id > 0
    app = client.App.objects.get(id=app_id)
    assert app.site_id == site.id
    assert app.name == "Hello"
    assert app.description == "Says hello"
    assert app.serialized_class == Hello._serialized_class
    assert app.source_code == Hello.source_code
    shown = app.display_dict()
    assert set(shown) == APP_KEYS
    assert shown["parameters"] == expected_hello_parameters()
    assert shown["transfers"] == EXPECTED_HELLO_TRANSFERS

    # The stored payload deserializes back into the same ApplicationDefinition.
    Loaded = ApplicationDefinition.from_serialized(app)
    assert Loaded.__name__ == "Hello"
    assert Loaded.command_template == "echo Hello {{ name }}! {{ N }} times"
    assert Loaded.__app_id__ == app_id


def test_sync_twice_updates_in_place(client, site) -> None:
    ApplicationDefinition._set_client(client)
    Hello = hello_app(site.id)
    Hello.sync()
    first_id = Hello.__app_id__
    Hello.sync()  # existing app -> GET + PUT with the full field set
    assert Hello.__app_id__ == first_id
    assert client.App.objects.filter(site_id=site.id).count() == 1

    Hello2 = hello_app_v2(site.id)
    Hello2.sync()
    assert Hello2.__app_id__ == first_id
    apps = list(client.App.objects.filter(site_id=site.id))
    assert len(apps) == 1
    app = apps[0]
    assert app.description == "Says hello, version 2"
    assert app.serialized_class == Hello2._serialized_class
    assert app.source_code == Hello2.source_code
    shown = app.display_dict()
    assert shown["parameters"] == {"who": {"required": True, "default": None, "help": ""}}
    assert shown["transfers"] == {}
    Loaded = ApplicationDefinition.from_serialized(app)
    assert Loaded.command_template == "echo Bonjour {{ who }}"


def test_sync_with_site_object(client, site) -> None:
    ApplicationDefinition._set_client(client)
    Hello = hello_app(site)
    Hello.sync()
    assert client.App.objects.get(id=Hello.__app_id__).site_id == site.id


def test_sync_rename_from(client, site) -> None:
    ApplicationDefinition._set_client(client)
    Hello = hello_app(site.id)
    Hello.sync()
    old_id = Hello.__app_id__

    Renamed = hello_renamed_app(site.id)
    Renamed.sync(rename_from="Hello")
    assert Renamed.__app_id__ == old_id
    assert client.App.objects.filter(site_id=site.id, name="Hello").count() == 0
    app = client.App.objects.get(site_id=site.id, name="HelloRenamed")
    assert app.id == old_id
    assert app.description == "Says hello under a new name"


# --- sync(): Python run-function app ------------------------------------------------------------
def test_sync_python_app(client, site) -> None:
    ApplicationDefinition._set_client(client)
    Adder = adder_app(site.id)
    Adder.sync()

    app = client.App.objects.get(site_id=site.id, name="Adder")
    assert app.id == Adder.__app_id__
    assert app.description == "Adds two numbers"
    assert app.serialized_class == Adder._serialized_class
    assert "def run(self, x: int, y=2)" in app.source_code
    # Defaults are sent as strings (AppParameter.default is a str): y=2 -> "2".
    expected = {
        name: {**meta, "default": None if meta["default"] is None else str(meta["default"])}
        for name, meta in Adder.parameters.items()
    }
    assert app.display_dict()["parameters"] == expected
    assert expected["x"] == {"required": True, "default": None, "help": "int"}
    assert expected["y"]["required"] is False and expected["y"]["default"] == "2"
    assert app.transfers == {}

    Loaded = ApplicationDefinition.from_serialized(app)
    assert Loaded.__name__ == "Adder"
    assert Loaded.run(None, 3) == 5
    assert Loaded.run(None, 3, y=10) == 13


def test_load_by_site_and_name(client, site) -> None:
    ApplicationDefinition._set_client(client)
    hello_app(site.name).sync()
    adder_app(site.name).sync()

    by_name = ApplicationDefinition.load_by_site(site.name)  # GET /apps/?site_name=...
    assert set(by_name) == {"Hello", "Adder"}
    assert by_name["Adder"].run(None, 1) == 3
    by_id = ApplicationDefinition.load_by_site(site.id)  # GET /apps/?site_id=...
    assert set(by_id) == {"Hello", "Adder"}

    Hello = ApplicationDefinition.load_by_name("Hello", site_name=site.name)
    assert Hello.command_template.startswith("echo Hello")
    assert ApplicationDefinition.load_by_id(by_name["Adder"].__app_id__).__name__ == "Adder"


# --- listing and filtering -------------------------------------------------------------------
@pytest.fixture
def apps_on_two_sites(client):
    prefix = unique("af")
    site_a = client.Site.objects.create(name=f"{prefix}-A", path=f"/apps/{prefix}/alpha")
    site_b = client.Site.objects.create(name=f"{prefix}-B", path=f"/apps/{prefix}/beta")
    a_hello = new_app(client, site_a.id, "Hello")
    a_world = new_app(client, site_a.id, "World")
    b_hello = new_app(client, site_b.id, "Hello")
    b_other = new_app(client, site_b.id, "Other")
    return prefix, site_a, site_b, (a_hello, a_world, b_hello, b_other)


def test_list_apps_ordered_by_id(client, apps_on_two_sites) -> None:
    _, _, _, apps = apps_on_two_sites
    expected = [a.id for a in apps]
    assert app_ids(client.App.objects.all()) == expected == sorted(expected)
    assert client.App.objects.count() == 4
    assert client.App.objects.all().first().id == expected[0]
    assert app_ids(client.App.objects.all()[1:3]) == expected[1:3]


def test_filter_apps_by_site_id(client, apps_on_two_sites) -> None:
    _, site_a, site_b, (a_hello, a_world, b_hello, b_other) = apps_on_two_sites
    assert app_ids(client.App.objects.filter(site_id=site_a.id)) == [a_hello.id, a_world.id]
    assert app_ids(client.App.objects.filter(site_id=site_b.id)) == [b_hello.id, b_other.id]
    assert app_ids(client.App.objects.filter(site_id=[site_a.id, site_b.id])) == [
        a_hello.id,
        a_world.id,
        b_hello.id,
        b_other.id,
    ]
    assert client.App.objects.filter(site_id=site_b.id).count() == 2
    assert app_ids(client.App.objects.filter(site_id=2**31 - 1)) == []


def test_filter_apps_by_name(client, apps_on_two_sites) -> None:
    _, site_a, site_b, (a_hello, a_world, b_hello, b_other) = apps_on_two_sites
    assert app_ids(client.App.objects.filter(name="Hello")) == [a_hello.id, b_hello.id]
    assert app_ids(client.App.objects.filter(name="Hell")) == []  # exact match
    assert app_ids(client.App.objects.filter(name="hello")) == []
    assert app_ids(client.App.objects.filter(name="Hello", site_id=site_b.id)) == [b_hello.id]


def test_filter_apps_by_site_name(client, apps_on_two_sites) -> None:
    prefix, site_a, site_b, (a_hello, a_world, b_hello, b_other) = apps_on_two_sites
    assert app_ids(client.App.objects.filter(site_name=site_a.name)) == [a_hello.id, a_world.id]
    assert app_ids(client.App.objects.filter(site_name=prefix)) == []  # exact match
    assert client.App.objects.get(site_name=site_b.name, name="Hello").id == b_hello.id


def test_filter_apps_by_site_path(client, apps_on_two_sites) -> None:
    prefix, site_a, site_b, (a_hello, a_world, b_hello, b_other) = apps_on_two_sites
    assert app_ids(client.App.objects.filter(site_path="alpha")) == [a_hello.id, a_world.id]
    assert app_ids(client.App.objects.filter(site_path=f"/apps/{prefix}")) == [a.id for a in apps_on_two_sites[3]]
    assert app_ids(client.App.objects.filter(site_path="ALPHA")) == []
    assert app_ids(client.App.objects.filter(site_path="beta", name="Other")) == [b_other.id]


def test_filter_apps_by_id(client, apps_on_two_sites) -> None:
    _, _, _, (a_hello, a_world, b_hello, b_other) = apps_on_two_sites
    assert app_ids(client.App.objects.filter(id=[b_other.id, a_hello.id])) == [a_hello.id, b_other.id]
    assert app_ids(client.App.objects.filter(id=a_world.id)) == [a_world.id]
    assert list(client.App.objects.filter(id=[])) == []


def test_get_app(client, apps_on_two_sites) -> None:
    _, site_a, _, (a_hello, *_rest) = apps_on_two_sites
    assert client.App.objects.get(site_id=site_a.id, name="Hello") == a_hello
    with pytest.raises(client.App.MultipleObjectsReturned):
        client.App.objects.get(name="Hello")
    with pytest.raises(client.App.DoesNotExist):
        client.App.objects.get(name="Nope")


# --- create / update / delete via the model API ---------------------------------------------------
def test_create_app_returns_full_object(client, site) -> None:
    app = new_app(
        client,
        site.id,
        "Sim",
        description="A simulation",
        parameters={"steps": {"required": False, "default": "10", "help": "number of steps"}},
        transfers={"cfg": {"required": True, "direction": "in", "local_path": "cfg/input.json"}},
    )
    assert isinstance(app.id, int)
    assert app.site_id == site.id and app.name == "Sim" and app.description == "A simulation"
    assert app.display_dict()["parameters"] == {"steps": {"required": False, "default": "10", "help": "number of steps"}}
    assert app.display_dict()["transfers"] == {
        "cfg": {"required": True, "direction": "in", "local_path": "cfg/input.json", "description": "", "recursive": False}
    }
    assert client.App.objects.get(id=app.id) == app


def test_duplicate_app_name_on_site_raises_after_400(client, site) -> None:
    new_app(client, site.id, "Twice")
    with expect_http_error(400, DUP_APP):
        new_app(client, site.id, "Twice")
    assert client.App.objects.filter(site_id=site.id, name="Twice").count() == 1


def test_same_app_name_on_two_sites(client, site) -> None:
    other = client.Site.objects.create(name=unique("other"), path="/other")
    a = new_app(client, site.id, "Same")
    b = new_app(client, other.id, "Same")
    assert a.id != b.id
    assert client.App.objects.filter(name="Same").count() == 2


def test_create_app_on_missing_site_404(client) -> None:
    with expect_http_error(404, NOT_FOUND):
        new_app(client, 2**31 - 1, "Orphan")
    assert client.App.objects.count() == 0


def test_update_app_fields(client, site) -> None:
    app = new_app(client, site.id, "Upd", parameters={"a": {"required": True, "default": None, "help": ""}})
    app.description = "changed"
    app.source_code = "new source"
    app.save()  # PUT with only the changed fields
    assert app.description == "changed" and app.source_code == "new source"
    assert app.serialized_class == "txt" and app.name == "Upd"
    assert app.display_dict()["parameters"] == {"a": {"required": True, "default": None, "help": ""}}
    assert client.App.objects.get(id=app.id) == app


def test_move_app_to_another_own_site(client, site) -> None:
    other = client.Site.objects.create(name=unique("dest"), path="/dest")
    app = new_app(client, site.id, "Mover")
    app.site_id = other.id
    app.save()
    assert app.site_id == other.id
    assert app_ids(client.App.objects.filter(site_id=other.id)) == [app.id]
    assert app_ids(client.App.objects.filter(site_id=site.id)) == []


def test_rename_app_to_taken_name_400(client, site) -> None:
    new_app(client, site.id, "Taken")
    app = new_app(client, site.id, "Free")
    app.name = "Taken"
    with expect_http_error(400, DUP_APP):
        app.save()
    assert client.App.objects.get(id=app.id).name == "Free"


@pytest.mark.upstream_differs("upstream sends a body with 204, which breaks the kept-alive connection (§1.3.3)")
def test_delete_app(client, site) -> None:
    keep = new_app(client, site.id, "Keep")
    gone = new_app(client, site.id, "Gone")
    gone_id = gone.id
    gone.delete()
    assert gone.id is None
    assert app_ids(client.App.objects.all()) == [keep.id]
    with pytest.raises(client.App.DoesNotExist):
        client.App.objects.get(id=gone_id)


@pytest.mark.upstream_differs("upstream sends a body with 204, which breaks the kept-alive connection (§1.3.3)")
def test_delete_site_cascades_to_apps(client, raw_user: RawAPI) -> None:
    doomed = client.Site.objects.create(name=unique("doomed"), path="/doomed")
    other = client.Site.objects.create(name=unique("kept"), path="/kept")
    app = new_app(client, doomed.id, "Dies")
    survivor = new_app(client, other.id, "Lives")
    doomed.delete()
    assert app_ids(client.App.objects.all()) == [survivor.id]
    resp = raw_user.get(f"/apps/{app.id}")
    assert_status(resp, 404)
    assert resp.json() == NOT_FOUND


# --- tenancy ----------------------------------------------------------------------------------------
def test_other_users_apps_are_invisible(client, client2, site, raw_user2: RawAPI) -> None:
    app = new_app(client, site.id, "Private")
    assert client2.App.objects.count() == 0
    assert app_ids(client2.App.objects.all()) == []
    assert app_ids(client2.App.objects.filter(site_id=site.id)) == []
    assert app_ids(client2.App.objects.filter(site_name=site.name)) == []
    assert app_ids(client2.App.objects.filter(id=app.id)) == []
    with pytest.raises(client2.App.DoesNotExist):
        client2.App.objects.get(id=app.id)
    for method in ("get", "delete"):
        resp = getattr(raw_user2, method)(f"/apps/{app.id}")
        assert_status(resp, 404)
        assert resp.json() == NOT_FOUND
    resp = raw_user2.put(f"/apps/{app.id}", json={"description": "hijacked"})
    assert_status(resp, 404)
    assert resp.json() == NOT_FOUND
    fetched = client.App.objects.get(id=app.id)
    assert fetched.description == "" and fetched == app


def test_cannot_create_app_on_other_users_site(client, client2, site) -> None:
    with expect_http_error(404, NOT_FOUND):
        new_app(client2, site.id, "Intruder")
    assert client.App.objects.filter(site_id=site.id).count() == 0


def test_cannot_sync_app_to_other_users_site(client, client2, site) -> None:
    ApplicationDefinition._set_client(client2)
    with expect_http_error(404, NOT_FOUND):
        hello_app(site.id).sync()  # GET /apps/?site_id=...&name=Hello is empty -> POST -> 404
    with pytest.raises(client2.Site.DoesNotExist):
        hello_app(site.name).sync()  # the site name does not resolve for user 2
    assert client.App.objects.count() == 0


def test_cannot_move_app_to_other_users_site(client, client2, site) -> None:
    theirs = client2.Site.objects.create(name=unique("theirs"), path="/theirs")
    app = new_app(client, site.id, "Stay")
    client.App  # noqa: B018  (re-bind App.objects to user 1)
    app.site_id = theirs.id
    with expect_http_error(404, NOT_FOUND):
        app.save()
    assert client.App.objects.get(id=app.id).site_id == site.id
