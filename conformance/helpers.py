"""Shared helpers for the conformance tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import contextlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Optional

import requests

# The SDK's RequestsClient.backoff() raises TimeoutError("Exceeded max retries")
# as soon as `_attempt > retry_count`. With retry_count=-1 the very first HTTP
# error is raised at once (chained to the requests.HTTPError) instead of being
# retried with exponential backoff for ~34 minutes (balsam-api.md §1.3.4).
NO_RETRY = -1

# Python isoformat() of a naive datetime: no offset; ".ffffff" only when the
# microseconds are non-zero (balsam-api.md §1.3.1).
NAIVE_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$")
AWARE_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?[+-]\d{2}:\d{2}$")

# Tolerance when comparing server timestamps with the local clock (same machine).
CLOCK_SLACK = timedelta(seconds=5)


def unique(prefix: str = "conf") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def unique_ident(prefix: str = "App") -> str:
    """A unique valid Python identifier (App names must satisfy str.isidentifier())."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def utcnow() -> datetime:
    """Naive UTC now, like the SDK's datetime.utcnow() (without the deprecation warning)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def assert_naive_recent(value: Any, before: datetime, after: datetime, what: str = "timestamp") -> None:
    """value must be a naive datetime within [before, after] (naive UTC), give or take CLOCK_SLACK."""
    assert isinstance(value, datetime), f"{what}: expected datetime, got {type(value)} {value!r}"
    assert value.tzinfo is None, f"{what}: expected a NAIVE UTC datetime (spec §1.3.1), got aware {value!r}"
    assert before - CLOCK_SLACK <= value <= after + CLOCK_SLACK, (
        f"{what}: {value} not within [{before}, {after}] (+/- {CLOCK_SLACK})"
    )


def http_error_of(exc: BaseException) -> Optional[requests.HTTPError]:
    """Find the requests.HTTPError behind an SDK exception (TimeoutError chains it as __context__)."""
    seen = set()
    cur: Optional[BaseException] = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, requests.HTTPError):
            return cur
        cur = cur.__cause__ or cur.__context__
    return None


@dataclass
class RaisedHTTP:
    exc: Optional[BaseException] = None
    status: Optional[int] = None
    body: Any = None
    text: str = ""


@contextlib.contextmanager
def expect_http_error(status: int, body: Any = None) -> Iterator[RaisedHTTP]:
    """Expect the SDK call in the block to fail because the server answered `status`.

    The SDK (retry_count=NO_RETRY) raises TimeoutError("Exceeded max retries: ...")
    whose __context__ is the requests.HTTPError carrying the response.
    If `body` is given, the JSON error body must equal it.
    """
    info = RaisedHTTP()
    try:
        yield info
    except (TimeoutError, requests.HTTPError) as exc:
        info.exc = exc
        http = http_error_of(exc)
        assert http is not None and http.response is not None, f"SDK raised without an HTTP response: {exc!r}"
        info.status = http.response.status_code
        info.text = http.response.text
        try:
            info.body = http.response.json()
        except ValueError:
            info.body = None
        req = http.response.request
        assert info.status == status, (
            f"expected HTTP {status}, got {info.status} for {req.method} {req.url}: {info.text[:500]}"
        )
        if body is not None:
            assert info.body == body, f"error body for {req.method} {req.url}: expected {body!r}, got {info.text!r}"
    else:
        raise AssertionError(f"expected the SDK to raise after HTTP {status}, but the call succeeded")


@dataclass
class User:
    username: str
    password: str
    id: int
    token: Optional[str] = None


@dataclass
class RawAPI:
    """Plain `requests` access to the API for wire-level checks the SDK cannot express."""

    api_root: str
    token: Optional[str] = None
    session: requests.Session = field(default_factory=requests.Session)

    def url(self, path: str) -> str:
        return self.api_root.rstrip("/") + "/" + path.lstrip("/")

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", None) or {})
        if self.token is not None and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        kw.setdefault("timeout", 30)
        return self.session.request(method, self.url(path), headers=headers, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def with_token(self, token: Optional[str]) -> "RawAPI":
        return RawAPI(self.api_root, token)


def describe(resp: requests.Response) -> str:
    return f"{resp.request.method} {resp.request.url} -> {resp.status_code} {resp.text[:500]!r}"


def assert_status(resp: requests.Response, status: int) -> None:
    assert resp.status_code == status, f"expected {status}: {describe(resp)}"


def assert_json_content_type(resp: requests.Response) -> None:
    ctype = resp.headers.get("content-type", "")
    assert ctype.split(";")[0].strip() == "application/json", f"Content-Type {ctype!r}: {describe(resp)}"


def assert_422(resp: requests.Response, loc: list, msg: Optional[str] = None, type_: Optional[str] = None) -> None:
    """A pydantic-style validation error with an entry at `loc` (balsam-api.md §1.3.2)."""
    assert_status(resp, 422)
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("detail"), list), f"422 body shape: {describe(resp)}"
    entries = [d for d in body["detail"] if d.get("loc") == loc]
    assert entries, f"no validation error with loc={loc}: {describe(resp)}"
    if msg is not None:
        assert any(e.get("msg") == msg for e in entries), f"no msg {msg!r} at {loc}: {describe(resp)}"
    if type_ is not None:
        assert any(e.get("type") == type_ for e in entries), f"no type {type_!r} at {loc}: {describe(resp)}"
