"""Rewriting gemgate file references for an upstream, in native JSON and in core parts."""

from __future__ import annotations

import pytest

from gemgate.core.errors import FailedPrecondition
from gemgate.core.types import Content, FileDataPart, GenerateRequest, Role, TextPart
from gemgate.services import relay_files

NATIVE = {
    "contents": [
        {"role": "user",
         "parts": [{"file_data": {"file_uri": "files/abc", "mime_type": "text/plain"}}]},
        {"role": "user", "parts": [{"fileData": {"fileUri": "gs://bucket/x.pdf"}}, {"text": "hi"}]},
    ],
    "systemInstruction": {"parts": [{"fileData": {"fileUri": "http://gg/v1beta/files/sys"}}]},
}  # fmt: skip


def test_references_are_found_in_either_spelling_and_the_system_turn() -> None:
    request = GenerateRequest("m", (), native=NATIVE)
    assert relay_files.references(request) == [
        "files/abc",
        "gs://bucket/x.pdf",
        "http://gg/v1beta/files/sys",
    ]


def test_native_rewrite_changes_only_the_uris_and_leaves_the_callers_body_alone() -> None:
    request = GenerateRequest("m", (), native=NATIVE)
    out = relay_files.rewritten(request, {"files/abc": "https://up/files/1"})
    assert out.native is not None
    assert out.native["contents"][0]["parts"][0] == {
        "file_data": {"file_uri": "https://up/files/1", "mime_type": "text/plain"}
    }
    assert out.native["contents"][1] == NATIVE["contents"][1]
    assert NATIVE["contents"][0]["parts"][0]["file_data"]["file_uri"] == "files/abc"


def test_core_rewrite_for_requests_without_a_native_body() -> None:
    request = GenerateRequest(
        "m", (Content(Role.USER, (FileDataPart("files/abc", "text/plain"), TextPart("q"))),)
    )
    out = relay_files.rewritten(request, {"files/abc": "https://up/files/1"})
    assert out.contents[0].parts[0] == FileDataPart("https://up/files/1", "text/plain")
    assert out.contents[0].parts[1] == TextPart("q")


def test_resources_held_by_two_deployments_cannot_be_combined() -> None:
    assert relay_files.one_deployment({"a"}) == "a"
    assert relay_files.one_deployment(set()) is None
    with pytest.raises(FailedPrecondition):
        relay_files.one_deployment({"a", "b"})
