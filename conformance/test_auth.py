"""Auth endpoints (balsam-api.md §2, §1.3.2, §1.8) through the official SDK client.

Note: the SDK re-sends a failing login/register request forever (authenticating
mode, §1.3.4), so every negative auth case is checked over plain HTTP; the SDK
is only used where the server is expected to succeed.
"""

from __future__ import annotations

from datetime import timedelta

import dateutil.parser
import pytest
from balsam.client import BasicAuthRequestsClient, RequestsClient, urls
from balsam.config import ClientSettings

from helpers import (
    NAIVE_ISO_RE,
    NO_RETRY,
    RawAPI,
    assert_422,
    assert_json_content_type,
    assert_status,
    describe,
    expect_http_error,
    unique,
    utcnow,
)

TOKEN_TTL = timedelta(hours=48)  # server default (spec §1.6, §2.5)


# --- /auth/how ----------------------------------------------------------------
def test_auth_how_lists_password_method(raw: RawAPI) -> None:
    resp = raw.get("/auth/how")
    assert_status(resp, 200)
    assert_json_content_type(resp)
    # Default deployment: exactly the password method, as Python str() of the enum.
    assert resp.json() == ["LoginMethod.password"]


def test_sdk_discovers_password_client(api_root: str) -> None:
    client = RequestsClient.discover_supported_client(api_root)
    assert type(client) is BasicAuthRequestsClient
    assert client.api_root == api_root


def test_auth_how_needs_no_auth_and_ignores_bad_token(raw: RawAPI) -> None:
    resp = raw.get("/auth/how", headers={"Authorization": "Bearer not-a-token"})
    assert_status(resp, 200)
    assert "LoginMethod.password" in resp.json()


# --- register -------------------------------------------------------------------
def test_register_with_sdk(api_root: str, auth_canary: None) -> None:
    """What `balsam register` does: client.post(PASSWORD_REGISTER, ..., authenticating=True)."""
    client = BasicAuthRequestsClient(api_root, retry_count=NO_RETRY)
    name = unique("reg")
    resp = client.post(urls.PASSWORD_REGISTER, username=name, password="pw-1", authenticating=True)
    assert isinstance(resp, dict)
    assert set(resp) == {"id", "username"}, resp
    assert resp["username"] == name
    assert isinstance(resp["id"], int) and resp["id"] > 0

    # ... and the new account can log in with the SDK.
    client = BasicAuthRequestsClient(api_root, username=name, password="pw-1", retry_count=NO_RETRY)
    client.refresh_auth()
    assert client.token


def test_register_status_and_shape(raw: RawAPI) -> None:
    name = unique("reg")
    resp = raw.post("/auth/password/register", json={"username": name, "password": "x"})
    assert_status(resp, 201)
    assert_json_content_type(resp)
    body = resp.json()
    assert set(body) == {"id", "username"} and body["username"] == name


def test_register_ids_are_distinct(raw: RawAPI) -> None:
    a = raw.post("/auth/password/register", json={"username": unique("a"), "password": "x"}).json()
    b = raw.post("/auth/password/register", json={"username": unique("b"), "password": "x"}).json()
    assert a["id"] != b["id"]


def test_register_duplicate_username(raw: RawAPI) -> None:
    name = unique("dup")
    assert_status(raw.post("/auth/password/register", json={"username": name, "password": "x"}), 201)
    resp = raw.post("/auth/password/register", json={"username": name, "password": "other"})
    assert_status(resp, 400)
    assert resp.json() == {"detail": "Username already taken"}


def test_register_missing_password(raw: RawAPI) -> None:
    resp = raw.post("/auth/password/register", json={"username": unique("nopw")})
    assert_422(resp, ["body", "password"], msg="field required", type_="value_error.missing")


def test_register_missing_username(raw: RawAPI) -> None:
    resp = raw.post("/auth/password/register", json={"password": "x"})
    assert_422(resp, ["body", "username"], type_="value_error.missing")


# --- login ----------------------------------------------------------------------
def test_login_with_sdk(api_root: str, make_user, auth_canary: None) -> None:
    user = make_user()
    client = BasicAuthRequestsClient(api_root, username=user.username, password=user.password, retry_count=NO_RETRY)
    before = utcnow()
    client.refresh_auth()
    after = utcnow()
    assert isinstance(client.token, str) and client.token
    assert client.session.headers["Authorization"] == f"Bearer {client.token}"
    # dateutil-parsed `expiration` must be NAIVE: the client does
    # `token_expiry - datetime.utcnow()` when it is rebuilt from client.yml (§1.3.1).
    expiry = client.token_expiry
    assert expiry is not None and expiry.tzinfo is None, f"login expiration must be naive UTC, got {expiry!r}"
    assert before + TOKEN_TTL - timedelta(minutes=2) <= expiry <= after + TOKEN_TTL + timedelta(minutes=2)
    # The token authenticates real calls.
    assert client.Site.objects.count() == 0


def test_login_response_wire_format(raw: RawAPI, make_user) -> None:
    user = make_user()
    resp = raw.post("/auth/password/login", data={"username": user.username, "password": user.password})
    assert_status(resp, 200)
    assert_json_content_type(resp)
    body = resp.json()
    assert set(body) == {"access_token", "token_type", "expiration"}, body
    assert body["token_type"] == "bearer"
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert NAIVE_ISO_RE.match(body["expiration"]), f"expiration must be a naive ISO datetime: {body['expiration']!r}"
    exp = dateutil.parser.parse(body["expiration"])
    assert abs(exp - (utcnow() + TOKEN_TTL)) < timedelta(minutes=2)


def test_login_accepts_oauth2_form_extras(raw: RawAPI, make_user) -> None:
    user = make_user()
    form = {
        "username": user.username,
        "password": user.password,
        "grant_type": "password",
        "scope": "",
        "client_id": "x",
        "client_secret": "y",
    }
    assert_status(raw.post("/auth/password/login", data=form), 200)


def test_login_wrong_password(raw: RawAPI, make_user) -> None:
    user = make_user()
    resp = raw.post("/auth/password/login", data={"username": user.username, "password": "wrong"})
    assert_status(resp, 401)
    assert resp.json() == {"detail": "Unauthorized"}


def test_login_unknown_user(raw: RawAPI) -> None:
    resp = raw.post("/auth/password/login", data={"username": unique("ghost"), "password": "x"})
    assert_status(resp, 401)
    assert resp.json() == {"detail": "Unauthorized"}


def test_login_rejects_json_body(raw: RawAPI, make_user) -> None:
    user = make_user()
    resp = raw.post("/auth/password/login", json={"username": user.username, "password": user.password})
    assert_status(resp, 422)


def test_login_twice_both_tokens_work(api_root: str, make_user, make_client) -> None:
    user = make_user()
    c1 = make_client(user)
    c2 = make_client(user)
    assert c1.Site.objects.count() == 0
    assert c2.Site.objects.count() == 0


# --- /auth/password/me and bearer handling ---------------------------------------------
def test_me(raw_user: RawAPI, user) -> None:
    resp = raw_user.get("/auth/password/me")
    assert_status(resp, 200)
    assert resp.json() == {"id": user.id, "username": user.username}


def test_missing_authorization_header(raw: RawAPI) -> None:
    resp = raw.get("/sites/")
    assert_status(resp, 401)
    assert resp.json() == {"detail": "Not authenticated"}
    assert resp.headers.get("www-authenticate") == "Bearer"


def test_non_bearer_scheme(raw: RawAPI) -> None:
    resp = raw.get("/sites/", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_status(resp, 401)
    assert resp.json() == {"detail": "Not authenticated"}
    assert resp.headers.get("www-authenticate") == "Bearer"


def test_invalid_token(raw: RawAPI) -> None:
    resp = raw.get("/sites/", headers={"Authorization": "Bearer abc.def.ghi"})
    assert_status(resp, 401)
    assert resp.json() == {"detail": "Could not validate credentials"}
    assert resp.headers.get("www-authenticate") == "Bearer"


def test_tampered_token(raw_user: RawAPI) -> None:
    token = raw_user.token
    assert token
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    resp = raw_user.get("/sites/", headers={"Authorization": f"Bearer {tampered}"})
    assert_status(resp, 401)
    assert resp.json() == {"detail": "Could not validate credentials"}


def test_bearer_scheme_is_case_insensitive(raw_user: RawAPI) -> None:
    resp = raw_user.get("/sites/", headers={"Authorization": f"bearer {raw_user.token}"})
    assert_status(resp, 200)
    assert resp.json() == {"count": 0, "results": []}


def test_sdk_client_with_bad_token_raises_401(api_root: str, auth_canary: None) -> None:
    client = BasicAuthRequestsClient(api_root, token="garbage", retry_count=NO_RETRY)
    with expect_http_error(401, {"detail": "Could not validate credentials"}):
        client.Site.objects.count()


def test_client_built_from_settings_like_balsam_api(api_root: str, make_user, make_client) -> None:
    """balsam.api builds its client from ClientSettings(...).build_client() (client.yml contents)."""
    user = make_user()
    logged_in = make_client(user)
    settings = ClientSettings(
        api_root=api_root, token=logged_in.token, token_expiry=logged_in.token_expiry, retry_count=NO_RETRY
    )
    client = settings.build_client()
    assert type(client) is BasicAuthRequestsClient
    assert client._authenticated, "token_expiry from the server was judged expired by the client"
    assert client.Site.objects.count() == 0


def test_unknown_route_404(raw: RawAPI) -> None:
    resp = raw.get("/no-such-route")
    assert_status(resp, 404)
    assert resp.json() == {"detail": "Not Found"}


def test_login_grant_type_must_be_password(raw: RawAPI, make_user) -> None:
    user = make_user()
    form = {"username": user.username, "password": user.password, "grant_type": "client_credentials"}
    resp = raw.post("/auth/password/login", data=form)
    assert_422(resp, ["body", "grant_type"])


def test_login_missing_password_422(raw: RawAPI, make_user) -> None:
    user = make_user()
    resp = raw.post("/auth/password/login", data={"username": user.username})
    assert_422(resp, ["body", "password"], type_="value_error.missing")


@pytest.mark.upstream_differs("concurrent duplicate registrations hit the unique constraint: 500 upstream")
def test_concurrent_register_same_username(api_root: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    name = unique("race")

    def register(_: int):
        return RawAPI(api_root).post("/auth/password/register", json={"username": name, "password": "x"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(register, range(12)))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [400] * 11, [describe(r) for r in results if r.status_code not in (201, 400)]
    assert all(r.json() == {"detail": "Username already taken"} for r in results if r.status_code == 400)
