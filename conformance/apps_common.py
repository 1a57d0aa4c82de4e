"""What the App conformance modules share: imports, upstream's error bodies, the
ApplicationDefinition factories and the `site` fixture."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from balsam.api import ApplicationDefinition

from helpers import (
    RawAPI,
    assert_422,
    assert_json_content_type,
    assert_status,
    describe,
    expect_http_error,
    unique,
)

NOT_FOUND = {"error": "Not found"}
DUP_APP = {"detail": "An app with this site_id and name already exists"}
APP_KEYS = {"id", "site_id", "name", "serialized_class", "source_code", "description", "parameters", "transfers"}


# --- ApplicationDefinition factories ---------------------------------------------------
def hello_app(site_ref: Any) -> type:
    class Hello(ApplicationDefinition):
        """Says hello"""

        site = site_ref
        command_template = "echo Hello {{ name }}! {{ N }} times"
        parameters = {"N": {"required": False, "default": "1", "help": "repeat count"}}
        transfers = {
            "inp": {"required": False, "direction": "in", "local_path": "hello.yml", "description": "Input deck"},
            "out": {"required": True, "direction": "out", "local_path": "results/", "recursive": True},
        }

    return Hello


def hello_app_v2(site_ref: Any) -> type:
    class Hello(ApplicationDefinition):
        """Says hello, version 2"""

        site = site_ref
        command_template = "echo Bonjour {{ who }}"

    return Hello


def hello_renamed_app(site_ref: Any) -> type:
    class HelloRenamed(ApplicationDefinition):
        """Says hello under a new name"""

        site = site_ref
        command_template = "echo Hi {{ name }}"

    return HelloRenamed


def adder_app(site_ref: Any) -> type:
    class Adder(ApplicationDefinition):
        """Adds two numbers"""

        site = site_ref

        def run(self, x: int, y=2):  # noqa: ANN001, ANN201
            return x + y

    return Adder


def expected_hello_parameters() -> Dict[str, Any]:
    return {
        "N": {"required": False, "default": "1", "help": "repeat count"},
        "name": {"required": True, "default": None, "help": ""},
    }


EXPECTED_HELLO_TRANSFERS = {
    "inp": {
        "required": False,
        "direction": "in",
        "local_path": "hello.yml",
        "description": "Input deck",
        "recursive": False,
    },
    "out": {"required": True, "direction": "out", "local_path": "results", "description": "", "recursive": True},
}


@pytest.fixture
def site(client):
    return client.Site.objects.create(name=unique("appsite"), path=f"/apps/{unique('p')}")


def new_app(client, site_id: int, name: str, **kw: Any):
    kw.setdefault("serialized_class", "txt")
    kw.setdefault("source_code", "src")
    return client.App.objects.create(site_id=site_id, name=name, **kw)


def app_ids(query) -> list:
    return [a.id for a in query]
