"""The deployment files in deploy/ hold together: manifests parse and refer to each other
correctly, every GEMGATE_* variable they set is a real setting, and the systemd unit verifies."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from gemgate.config import Settings, load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
SYSTEMD = DEPLOY / "systemd"


def documents() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    return docs


def find(kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def gemgate_container() -> dict[str, Any]:
    pod = find("Deployment", "gemgate")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return dict(container)


def test_every_manifest_names_its_api_kind_and_name() -> None:
    docs = documents()
    assert len(docs) >= 10
    for doc in docs:
        assert doc.get("apiVersion") and doc.get("kind"), doc
        assert doc.get("kind") == "Kustomization" or doc["metadata"].get("name"), doc


def test_the_deployment_runs_replicas_probed_on_healthz() -> None:
    deployment = find("Deployment", "gemgate")
    assert deployment["spec"]["replicas"] >= 2
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    container = gemgate_container()
    port_names = {p["name"] for p in container["ports"]}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz"
        assert container[probe]["httpGet"]["port"] in port_names


def test_the_service_reaches_the_deployment_pods() -> None:
    service = find("Service", "gemgate")
    labels = find("Deployment", "gemgate")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    names = {p["name"] for p in gemgate_container()["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= names


def test_config_secret_and_volumes_the_pods_use_exist() -> None:
    container = gemgate_container()
    for source in container["envFrom"]:
        if "configMapRef" in source:
            find("ConfigMap", source["configMapRef"]["name"])
        else:
            find("Secret", source["secretRef"]["name"])
    volumes = find("Deployment", "gemgate")["spec"]["template"]["spec"]["volumes"]
    mounted = {m["name"] for m in container["volumeMounts"]}
    assert mounted == {v["name"] for v in volumes}
    for volume in volumes:
        if "configMap" in volume:
            find("ConfigMap", volume["configMap"]["name"])
        if "persistentVolumeClaim" in volume:
            find("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])


def test_blobs_live_on_a_shared_volume_mounted_where_gemgate_looks() -> None:
    claim = find("PersistentVolumeClaim", "gemgate-blobs")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    blob_dir = find("ConfigMap", "gemgate-env")["data"]["GEMGATE_BLOB_DIR"]
    volumes = find("Deployment", "gemgate")["spec"]["template"]["spec"]["volumes"]
    (blobs,) = [v["name"] for v in volumes if v.get("persistentVolumeClaim")]
    mounts = {m["name"]: m["mountPath"] for m in gemgate_container()["volumeMounts"]}
    assert mounts[blobs] == blob_dir


def test_the_secret_holds_what_replicas_must_share() -> None:
    shared = find("Secret", "gemgate-secrets")["stringData"]
    assert {"GEMGATE_DATABASE_URL", "GEMGATE_REDIS_URL", "GEMGATE_SIGNING_SECRET"} <= set(shared)
    assert shared["GEMGATE_DATABASE_URL"].startswith("postgresql+psycopg://")


def gemgate_variables() -> dict[str, str]:
    found = dict(find("ConfigMap", "gemgate-env")["data"])
    found |= {k: v for k, v in find("Secret", "gemgate-secrets")["stringData"].items()}
    for line in (SYSTEMD / "gemgate.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            found[name] = value
    return {k: v for k, v in found.items() if k.startswith("GEMGATE_")}


def test_every_gemgate_variable_is_a_setting_and_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    variables = gemgate_variables()
    assert variables
    for name, value in variables.items():
        assert name.removeprefix("GEMGATE_").lower() in Settings.model_fields, name
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.redis_url and settings.sql_url.startswith("postgresql+psycopg://")


def test_the_configmap_config_file_loads(tmp_path: Path) -> None:
    text = find("ConfigMap", "gemgate-config")["data"]["gemgate.toml"]
    assert set(tomllib.loads(text)) <= set(Settings.model_fields)
    path = tmp_path / "gemgate.toml"
    path.write_text(text)
    assert load_settings(path).default_model == "smollm2-135m-instruct"
    container = gemgate_container()
    assert "/etc/gemgate/gemgate.toml" in container["args"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_renders_the_whole_set() -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(KUBERNETES)], capture_output=True, text=True, timeout=60
    )
    assert rendered.returncode == 0, rendered.stderr
    kinds = [d["kind"] for d in yaml.safe_load_all(rendered.stdout)]
    assert {"Deployment", "Service", "ConfigMap", "Secret", "PersistentVolumeClaim"} <= set(kinds)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (SYSTEMD / "gemgate@.service").read_text()
    assert "EnvironmentFile=/etc/gemgate/gemgate.env" in unit
    # Verify against this checkout's gemgate (the unit names the installed path).
    executable = str(Path(sys.executable).parent / "gemgate")
    (tmp_path / "gemgate@.service").write_text(
        re.sub(r"/opt/gemgate/venv/bin/gemgate", executable, unit)
    )
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "gemgate@8081.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # verify exits 0 on unknown keys and bad values, printing them: neither may appear.
    assert result.returncode == 0 and "gemgate@" not in result.stderr, result.stderr
