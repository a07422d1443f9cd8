"""Compose stacks for the tests: are Docker and the images there, one project per stack,
``down -v`` whatever happens, and the same experiment run outside containers.

The images are rebuilt once per session with docker/build.sh on the base they were first built
on (the image label ``org.astra-cosim.base-image``): .ci/steps/40-docker.sh builds them, so in
CI every layer is cached and the rebuild only checks that the images hold the current source.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
BASE_LABEL = "org.astra-cosim.base-image"
# the non-root user of the images (docker/Dockerfile, stage base)
IMAGE_UID = 10001
# the images' tag (build.sh and docker-compose.yml read IMAGE_TAG too): a tag of its own keeps
# a test run off images that another checkout builds on the same Docker daemon
IMAGE_TAG = os.environ.get("IMAGE_TAG", "latest")


def image(role: str) -> str:
    return f"astra-cosim/{role}:{IMAGE_TAG}"
# summary.json keys under cosim.<kind> and adapter_stats.<kind> that depend on the transport
# or the machine, not on the simulation; besides these, every key ending in _s (wall seconds)
_TRANSPORT_KEYS = ("endpoint", "protocol_bytes")


def _quiet(command: list[str], timeout_s: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)


def compose_command() -> list[str] | None:
    """Compose v2 (the docker CLI plugin) when present, else v1 (docker-compose)."""
    if shutil.which("docker") and _quiet(["docker", "compose", "version"]).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def docker_missing() -> str | None:
    """Why the compose tests cannot run here, or None when they can."""
    if not shutil.which("docker"):
        return "docker is not installed (.ci/steps/40-docker.sh installs docker.io)"
    if _quiet(["docker", "info"]).returncode != 0:
        return "no Docker daemon answers (start dockerd; .ci/steps/40-docker.sh does)"
    if compose_command() is None:
        return "neither `docker compose` nor docker-compose is installed"
    if _quiet(["docker", "image", "inspect", image("base")]).returncode != 0:
        return "the astra-cosim images were never built here (docker/build.sh; in CI, " \
               ".ci/steps/40-docker.sh)"
    return None


# adapter image role -> the Python package of its backend
BACKEND_PACKAGES = {"ns3": "ns", "scalesim": "scalesim"}


def adapter_missing(*modules: str) -> str | None:
    """Why a stack needing these adapter packages cannot run yet, or None."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            return f"{module} does not exist yet: its container stack is tested once it does"
    return None


def backend_missing(*roles: str) -> str | None:
    """Why these backends cannot run outside containers here (for the comparison), or None."""
    for role in roles:
        if role == "garnet":
            from adapters.garnet.locate import unavailable_reason
            reason = unavailable_reason()
            if reason:
                return f"outside containers: {reason}"
            continue
        if importlib.util.find_spec(BACKEND_PACKAGES[role]) is None:
            return (f"{BACKEND_PACKAGES[role]} is not installed here, so the run outside "
                    f"containers cannot be made: pip install 'astra-cosim[{role}]'")
    return None


def roles_to_build() -> list[str]:
    """The engine, and each adapter image whose adapter package exists."""
    return ["engine"] + [role for role in ("ns3", "scalesim")
                         if adapter_missing(f"adapters.{role}") is None]


GARNET_DOCKERFILE = ROOT / "docker" / "garnet" / "Dockerfile"
GEM5_SOURCE_LABEL = "org.astra-cosim.gem5-source"
GEM5_SOURCES = ROOT / "docker" / "garnet" / "gem5-source"


def _gem5_source() -> str | None:
    """The GEM5_SOURCE the garnet image was built from (its label); None without the image."""
    label = _quiet(["docker", "image", "inspect", image("garnet"), "--format",
                    f'{{{{index .Config.Labels "{GEM5_SOURCE_LABEL}"}}}}'])
    return label.stdout.strip() if label.returncode == 0 else None


def garnet_image_missing() -> str | None:
    """Why the garnet image cannot be brought up to date without building gem5 (over an hour
    on 2 cores, never done by the tests), or None."""
    source = _gem5_source()
    if source is None:
        return (f"{image('garnet')} was never built here (gem5 builds for over an hour: "
                "COMPOSE_PROFILES=garnet docker compose build garnet, docker/garnet/Dockerfile)")
    if "://" not in source and not (GEM5_SOURCES / source).is_file():
        return (f"{image('garnet')} was built from docker/garnet/gem5-source/{source}, which "
                "is gone: rebuilding would build gem5 again (over an hour)")
    return None


def image_missing(role: str) -> str:
    """Why an adapter image is not among the session's current images (a skip reason)."""
    if role == "garnet":
        return garnet_image_missing() or f"{image(role)} is not current"
    return f"adapters.{role} does not exist yet, so its image is not built"


def rebuild_garnet_image() -> None:
    """The garnet image on the current engine image: its gem5 stage comes from the layer
    cache (same base, SimObject and source), so only the final stage is built again."""
    build = subprocess.run(
        ["docker", "build", "-f", str(GARNET_DOCKERFILE), "-t", image("garnet"),
         "--build-arg", f"BASE_IMAGE={image('base')}",
         "--build-arg", f"ENGINE_IMAGE={image('engine')}",
         "--build-arg", f"GEM5_SOURCE={_gem5_source()}", str(ROOT)],
        env=os.environ | {"DOCKER_BUILDKIT": "0"}, capture_output=True, text=True,
        timeout=1800)
    assert build.returncode == 0, f"the garnet image failed to build:\n{build.stdout[-3000:]}" \
                                  f"\n{build.stderr[-3000:]}"


def rebuild_images(roles: list[str]) -> None:
    """docker/build.sh on the base the images were built on; fails the test if it fails."""
    label = _quiet(["docker", "image", "inspect", image("base"), "--format",
                    f'{{{{index .Config.Labels "{BASE_LABEL}"}}}}'])
    base = label.stdout.strip()
    assert label.returncode == 0 and base, f"{image('base')} has no {BASE_LABEL} label"
    env = os.environ | {"BASE_IMAGE": base}
    build = subprocess.run([str(ROOT / "docker" / "build.sh"), *roles], env=env,
                           capture_output=True, text=True, timeout=3600)
    assert build.returncode == 0, f"docker/build.sh {' '.join(roles)} failed:\n" \
                                  f"{build.stdout[-3000:]}\n{build.stderr[-3000:]}"


def results_folder(path: Path) -> dict[str, str]:
    """Create ``path`` for the stack's results. No ASTRA_UID/ASTRA_GID: the engine container
    gives the results to the owner of the mounted experiments, as after a plain clone."""
    path.mkdir(parents=True, exist_ok=True)
    return {}


class Stack:
    """One compose project: ``up`` runs it to the engine's end, leaving it always ``down -v``."""

    def __init__(self, workdir: Path, experiment: str, profiles: tuple[str, ...],
                 experiments_dir: Path = ROOT / "experiments") -> None:
        command = compose_command()
        assert command is not None
        self.project = f"astra-cosim-test-{uuid.uuid4().hex[:10]}"
        self.results = workdir / "results"
        self.base = [*command, "-f", str(COMPOSE_FILE), "-p", self.project]
        self.env = os.environ | results_folder(self.results) | {
            "EXPERIMENT": experiment,
            "COMPOSE_PROFILES": ",".join(profiles),
            "ASTRA_RESULTS": str(self.results),
            "ASTRA_EXPERIMENTS": str(experiments_dir),
        }

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run([*self.base, "down", "-v", "--remove-orphans", "--timeout", "5"],
                       env=self.env, capture_output=True, timeout=120)

    def up_command(self) -> list[str]:
        return [*self.base, "up", "--exit-code-from", "engine"]

    def up(self, timeout_s: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(self.up_command(), env=self.env, capture_output=True, text=True,
                              timeout=timeout_s)

    def run_detached(self, service: str) -> subprocess.CompletedProcess:
        """Start one service in the background (``up -d SERVICE``)."""
        return subprocess.run([*self.base, "up", "-d", service], env=self.env,
                              capture_output=True, text=True, timeout=300)

    def health_log(self, service: str) -> dict[str, int]:
        """The healthchecks Docker still remembers: start time -> exit code."""
        health = json.loads(self.inspect(service, "{{json .State.Health}}") or "null") or {}
        return {entry["Start"]: entry["ExitCode"] for entry in health.get("Log") or []}

    def container(self, service: str) -> str:
        ids = subprocess.run([*self.base, "ps", "-q", service], env=self.env,
                             capture_output=True, text=True, timeout=60).stdout.split()
        assert len(ids) == 1, f"expected one {service} container, found {ids}"
        return ids[0]

    def inspect(self, service: str, template: str) -> str:
        return _quiet(["docker", "inspect", "--format", template,
                       self.container(service)]).stdout.strip()


def outside_copy(experiment: Path, directory: Path) -> Path:
    """The same experiment for a run outside containers: no endpoints, every adapter placed
    in a child process (``--placement process``), file paths made absolute."""
    doc: dict[str, Any] = yaml.safe_load(experiment.read_text(encoding="utf-8"))
    base = experiment.parent

    def absolute(value: Any) -> Any:
        return str((base / value).resolve()) if isinstance(value, str) else value

    for key in ("workload", "system", "comm_group"):
        if key in doc:
            doc[key] = absolute(doc[key])
    for kind in ("network", "compute"):
        section = doc.get(kind)
        if isinstance(section, dict):
            section.pop("endpoint", None)
            section["placement"] = "process"
            if "config" in section:
                section["config"] = absolute(section["config"])
            options = section.get("options") or {}
            for key, value in options.items():
                if isinstance(value, str) and (base / value).exists():
                    options[key] = absolute(value)
    directory.mkdir(parents=True, exist_ok=True)
    copy = directory / experiment.name
    copy.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return copy


def comparable_summary(path: Path) -> dict[str, Any]:
    """summary.json without what the transport or the machine decides (endpoint, protocol
    bytes, wall seconds)."""
    summary = json.loads(path.read_text(encoding="utf-8"))
    for section in ("cosim", "adapter_stats"):
        for counters in summary.get(section, {}).values():
            for key in list(counters):
                if key in _TRANSPORT_KEYS or key.endswith("_s"):
                    del counters[key]
    return summary
