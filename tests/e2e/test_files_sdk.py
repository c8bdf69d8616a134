"""The Files API and document input through the real google-genai SDK against a real server."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from google import genai
from google.genai import errors, types

from tests.documents import tiny_pdf
from tests.serving import RunningServer, gemgate_server

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"
SHORT = types.GenerateContentConfig(max_output_tokens=4, temperature=0.0)
MIB = 1024 * 1024


def _sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _count(client: genai.Client, contents: list[types.Part | str]) -> int:
    total = client.models.count_tokens(model=MODEL, contents=contents).total_tokens
    assert total is not None
    return total


def test_upload_text_file_by_path_then_get_list_delete(
    client: genai.Client, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("gemgate keeps files for 48 hours.\n")
    uploaded = client.files.upload(file=path, config={"display_name": "notes"})
    assert uploaded.name and uploaded.name.startswith("files/")
    assert uploaded.mime_type == "text/plain"
    assert uploaded.size_bytes == path.stat().st_size
    assert uploaded.sha256_hash == _sha(path.read_bytes())
    assert uploaded.state == types.FileState.ACTIVE
    assert uploaded.source == types.FileSource.UPLOADED
    assert uploaded.display_name == "notes"
    assert uploaded.uri and uploaded.uri.endswith(uploaded.name)
    assert uploaded.expiration_time and uploaded.create_time
    assert (uploaded.expiration_time - uploaded.create_time).total_seconds() == 48 * 3600

    fetched = client.files.get(name=uploaded.name)
    assert fetched.sha256_hash == uploaded.sha256_hash
    assert uploaded.name in {f.name for f in client.files.list()}

    client.files.delete(name=uploaded.name)
    with pytest.raises(errors.ClientError) as caught:
        client.files.get(name=uploaded.name)
    assert caught.value.code == 404


def test_upload_24_mb_in_several_chunks_keeps_every_byte(
    gemini: genai.Client, server: RunningServer
) -> None:
    data = bytes(range(256)) * (24 * MIB // 256)
    uploaded = gemini.files.upload(
        file=io.BytesIO(data), config={"mime_type": "application/octet-stream"}
    )
    assert uploaded.size_bytes == len(data)
    assert uploaded.sha256_hash == _sha(data)
    assert uploaded.name
    digest = hashlib.sha256()
    with httpx.stream(
        "GET", f"{server.url}/v1beta/{uploaded.name}:download", params={"alt": "media"}
    ) as response:
        assert response.status_code == 200
        for block in response.iter_bytes():
            digest.update(block)
    assert digest.digest() == hashlib.sha256(data).digest()
    gemini.files.delete(name=uploaded.name)


def test_list_pages_through_files(gemini: genai.Client) -> None:
    names = {
        gemini.files.upload(
            file=io.BytesIO(f"file {i}".encode()), config={"mime_type": "text/plain"}
        ).name
        for i in range(3)
    }
    pager = gemini.files.list(config={"page_size": 2})
    assert len(pager.page) == 2
    assert names <= {f.name for f in pager}
    for name in names:
        assert name
        gemini.files.delete(name=name)


def test_uploaded_file_reaches_the_model(gemini: genai.Client) -> None:
    text = "The lighthouse keeper counted forty-two ships in the harbour at dawn.\n" * 5
    uploaded = gemini.files.upload(
        file=io.BytesIO(text.encode()), config={"mime_type": "text/plain"}
    )
    assert uploaded.uri and uploaded.mime_type
    part = types.Part.from_uri(file_uri=uploaded.uri, mime_type=uploaded.mime_type)
    question = "What did the keeper count?"
    with_file = _count(gemini, [part, question])
    assert with_file > _count(gemini, [question]) + 50
    by_name = types.Part(file_data=types.FileData(file_uri=uploaded.name))
    assert _count(gemini, [by_name, question]) == with_file

    response = gemini.models.generate_content(model=MODEL, contents=[part, question], config=SHORT)
    usage = response.usage_metadata
    assert usage is not None and usage.prompt_token_count == with_file

    assert uploaded.name
    gemini.files.delete(name=uploaded.name)
    with pytest.raises(errors.ClientError) as caught:
        gemini.models.generate_content(model=MODEL, contents=[part, question], config=SHORT)
    assert caught.value.code == 404
    assert "contents[0].parts[0].fileData" in str(caught.value.message)


def test_inline_pdf_reaches_the_model(gemini: genai.Client) -> None:
    pdf = tiny_pdf("The secret password is pelican.", "Second page about lighthouses.")
    part = types.Part.from_bytes(data=pdf, mime_type="application/pdf")
    question = "What is the password?"
    assert _count(gemini, [part, question]) > _count(gemini, [question]) + 10
    response = gemini.models.generate_content(model=MODEL, contents=[part, question], config=SHORT)
    assert response.usage_metadata and response.usage_metadata.prompt_token_count


def test_uploaded_pdf_is_read_page_by_page(gemini: genai.Client) -> None:
    pdf = tiny_pdf("Alpha page.", "Beta page.", "Gamma page.")
    uploaded = gemini.files.upload(file=io.BytesIO(pdf), config={"mime_type": "application/pdf"})
    assert uploaded.uri
    part = types.Part.from_uri(file_uri=uploaded.uri, mime_type="application/pdf")
    inline = types.Part.from_bytes(data=pdf, mime_type="application/pdf")
    assert _count(gemini, [part, "Hi"]) == _count(gemini, [inline, "Hi"])


def test_image_on_a_text_only_model_is_a_400_naming_the_modality(gemini: genai.Client) -> None:
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    inline = types.Part.from_bytes(data=png, mime_type="image/png")
    with pytest.raises(errors.ClientError) as caught:
        gemini.models.generate_content(model=MODEL, contents=[inline, "Describe."], config=SHORT)
    assert caught.value.code == 400 and "IMAGE" in str(caught.value.message)

    uploaded = gemini.files.upload(file=io.BytesIO(png), config={"mime_type": "image/png"})
    assert uploaded.uri and uploaded.name
    part = types.Part.from_uri(file_uri=uploaded.uri, mime_type="image/png")
    with pytest.raises(errors.ClientError) as caught:
        gemini.models.count_tokens(model=MODEL, contents=[part, "Describe."])
    assert caught.value.code == 400 and "IMAGE" in str(caught.value.message)
    gemini.files.delete(name=uploaded.name)


def test_register_files_names_the_cloud_storage_uri_it_cannot_read(
    gemini: genai.Client,
) -> None:
    from google.oauth2.credentials import Credentials

    with pytest.raises(errors.ClientError) as caught:
        gemini.files.register_files(
            auth=Credentials(token="caller-token"), uris=["gs://bucket/report.pdf"]
        )
    assert caught.value.code == 400 and caught.value.status == "FAILED_PRECONDITION"
    assert "gs://bucket/report.pdf" in str(caught.value.message)
    assert "files.upload" in str(caught.value.message)


def test_register_files_without_uris_names_the_field(server: RunningServer) -> None:
    response = httpx.post(f"{server.url}/v1beta/files:register", json={"uris": []})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and "uris" in error["message"]


def _start(base: str, size: int) -> str:
    response = httpx.post(
        f"{base}/upload/v1beta/files",
        headers={
            "X-Goog-Upload-Protocol": "resumable",
            "X-Goog-Upload-Command": "start",
            "X-Goog-Upload-Header-Content-Length": str(size),
            "X-Goog-Upload-Header-Content-Type": "application/octet-stream",
        },
        json={"file": {"display_name": "resumed"}},
    )
    assert response.status_code == 200 and response.headers["x-goog-upload-status"] == "active"
    url = response.headers["x-goog-upload-url"]
    assert url.startswith(base + "/upload/v1beta/files?")
    return url


def _send(url: str, command: str, offset: int, data: bytes) -> httpx.Response:
    return httpx.post(
        url,
        headers={"X-Goog-Upload-Command": command, "X-Goog-Upload-Offset": str(offset)},
        content=data,
        timeout=60,
    )


def _query(url: str) -> int:
    response = httpx.post(url, headers={"X-Goog-Upload-Command": "query"})
    assert response.status_code == 200 and response.headers["x-goog-upload-status"] == "active"
    return int(response.headers["x-goog-upload-size-received"])


def test_interrupted_upload_resumes_from_query(server: RunningServer) -> None:
    data = hashlib.sha256(b"seed").digest() * (3 * MIB // 32)
    base = server.url + "/gemini"
    url = _start(base, len(data))
    first = _send(url, "upload", 0, data[: 2 * MIB])
    assert first.headers["x-goog-upload-status"] == "active"
    resume_at = _query(url)
    assert resume_at == 2 * MIB
    early = _send(url, "upload", resume_at + 1, data[resume_at + 1 :])
    assert early.status_code == 400 and early.headers["x-goog-upload-status"] == "final"
    final = _send(url, "upload, finalize", resume_at, data[resume_at:])
    assert final.status_code == 200 and final.headers["x-goog-upload-status"] == "final"
    file = final.json()["file"]
    assert file["sha256Hash"] == _sha(data) and file["sizeBytes"] == str(len(data))
    assert file["uri"] == f"{base}/v1beta/{file['name']}"
    again = httpx.post(url, headers={"X-Goog-Upload-Command": "query"})
    assert again.headers["x-goog-upload-status"] == "final"
    assert again.json()["file"]["name"] == file["name"]
    httpx.delete(f"{base}/v1beta/{file['name']}").raise_for_status()


def test_upload_over_the_file_limit_is_refused_at_start(server: RunningServer) -> None:
    response = httpx.post(
        f"{server.url}/upload/v1beta/files",
        headers={
            "X-Goog-Upload-Protocol": "resumable",
            "X-Goog-Upload-Command": "start",
            "X-Goog-Upload-Header-Content-Length": str(3 * 1024**3),
        },
        json={"file": {"mime_type": "text/plain"}},
    )
    assert response.status_code == 400
    assert "limit" in response.json()["error"]["message"]


def test_killing_the_server_mid_upload_leaves_no_file_and_upload_resumes(
    tmp_path: Path,
) -> None:
    data = os.urandom(6 * MIB)
    data_dir = tmp_path / "crash"
    with gemgate_server(data_dir) as running:
        url = _start(running.url, len(data))
        assert _send(url, "upload", 0, data[: 2 * MIB]).status_code == 200

        def dying_body() -> Iterator[bytes]:
            yield data[2 * MIB : 3 * MIB]
            time.sleep(0.5)
            os.kill(running.pid, signal.SIGKILL)
            time.sleep(0.5)
            yield data[3 * MIB :]

        with pytest.raises(httpx.HTTPError):
            httpx.post(
                url,
                headers={
                    "X-Goog-Upload-Command": "upload, finalize",
                    "X-Goog-Upload-Offset": str(2 * MIB),
                },
                content=dying_body(),
                timeout=30,
            )
    assert not any((data_dir / "files" / "blobs").iterdir())

    with gemgate_server(data_dir) as running:
        client = genai.Client(
            api_key="k", http_options=types.HttpOptions(base_url=running.url + "/gemini")
        )
        assert list(client.files.list()) == []
        moved = running.url + url[url.index("/upload/") :]
        received = _query(moved)
        assert 2 * MIB <= received <= 3 * MIB
        final = _send(moved, "upload, finalize", received, data[received:])
        assert final.json()["file"]["sha256Hash"] == _sha(data)
        again = client.files.upload(file=io.BytesIO(data), config={"mime_type": "text/plain"})
        assert again.sha256_hash == _sha(data)
        assert len(list(client.files.list())) == 2
