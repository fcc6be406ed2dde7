"""docker-compose.yml cannot run here (no Docker engine): check each command names
something that exists in this repository."""

import importlib
from pathlib import Path

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]


def _services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_it_declares_the_scale_out_services():
    assert {"web", "worker", "beat", "redis", "postgres", "sandbox"} <= set(_services())


def test_it_shares_one_image_and_env_file():
    apps = {n: s for n, s in _services().items() if n not in ("redis", "postgres")}
    assert {s["image"] for s in apps.values()} == {"twilio-advanced-connector"}
    assert all(s["env_file"] == ".env" for s in apps.values())


def test_it_names_commands_that_exist():
    for name, service in _services().items():
        command = service.get("command")
        if name in ("redis", "postgres"):
            continue
        program = command[0]
        if program == "gunicorn":
            module, attr = command[1].split(":")
            assert hasattr(importlib.import_module(module), attr), name
        elif program == "celery":
            assert command[1:3] == ["-A", "connector_site"]
            importlib.import_module("connector_site.celery")
            assert command[3] in ("worker", "beat"), name
            if "-S" in command:
                module, attr = command[command.index("-S") + 1].split(":")
                assert hasattr(importlib.import_module(module), attr), name
        elif program == "python":
            assert command[1] == "manage.py"
            assert command[2] in get_commands(), f"{name}: no command {command[2]}"
        else:
            raise AssertionError(f"{name}: unexpected program {program}")


def test_it_builds_the_image_from_files_that_exist():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.txt" in dockerfile and (ROOT / "requirements.txt").exists()
