"""The GitHub Actions workflows validate offline and do what the README says they do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
CHECK = [str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]


def _load(name: str) -> dict:
    flow = yaml.safe_load((WORKFLOWS / name).read_text())
    flow["on"] = flow.pop(True, flow.get("on"))  # YAML 1.1 reads the key `on` as True
    return flow


def _steps(flow: dict) -> list[dict]:
    return [step for job in flow["jobs"].values() for step in job.get("steps", [])]


def _runs(flow: dict) -> str:
    return "\n".join(step.get("run", "") for step in _steps(flow))


def _uses(flow: dict) -> list[str]:
    return [step["uses"].split("@")[0] for step in _steps(flow) if "uses" in step]


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_workflow_matches_the_github_actions_schema(path):
    proc = subprocess.run([*CHECK, str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\non: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps: make test\n")
    proc = subprocess.run([*CHECK, str(bad)], capture_output=True, text=True)
    assert proc.returncode != 0


def test_every_workflow_is_described_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    names = sorted(p.name for p in WORKFLOWS.glob("*.yml"))
    assert names == ["ci.yml", "linkcheck.yml", "publish.yml", "rebuild.yml"]
    for name in names:
        assert f".github/workflows/{name}" in readme, f"README does not describe {name}"


def _runs_the_readme_test_in_bookworm(flow: dict) -> None:
    jobs = [job for job in flow["jobs"].values() if "container" in job]
    assert jobs and all(job["container"]["image"] == "python:3.11-bookworm" for job in jobs)
    assert "make test" in _runs(flow)
    assert "chromium" in _runs(flow)


def test_ci_runs_make_test_on_push_and_pull_request_and_keeps_logs_on_failure():
    flow = _load("ci.yml")
    assert {"push", "pull_request"} <= set(flow["on"])
    _runs_the_readme_test_in_bookworm(flow)
    upload = [s for s in _steps(flow) if s.get("uses", "").startswith("actions/upload-artifact")]
    assert len(upload) == 1 and upload[0]["if"] == "failure()"
    kept = upload[0]["with"]["path"]
    for path in ("_build/build.log", "_build/results/", "_build/build-failed.log"):
        assert path in kept


def test_weekly_cold_rebuild_uses_no_cache_and_reports_drift():
    flow = _load("rebuild.yml")
    assert "schedule" in flow["on"] and flow["on"]["schedule"][0]["cron"].count(" ") == 4
    _runs_the_readme_test_in_bookworm(flow)
    assert "make clean" in _runs(flow)
    assert "actions/cache" not in _uses(flow)
    assert "tools/results.py compare" in _runs(flow)


def test_publish_deploys_the_tested_html_from_main_to_pages():
    flow = _load("publish.yml")
    assert flow["on"]["push"]["branches"] == ["main"]
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    _runs_the_readme_test_in_bookworm({"jobs": {"build": build}})
    artifact = [s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact")]
    assert artifact and artifact[0]["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert "actions/deploy-pages" in _uses({"jobs": {"deploy": deploy}})


def test_link_check_is_weekly_and_gates_nothing():
    flow = _load("linkcheck.yml")
    assert set(flow["on"]) == {"schedule", "workflow_dispatch"}
    assert "check_links.py --external --check" in _runs(flow)
    for other in ("ci.yml", "rebuild.yml", "publish.yml"):
        assert "check_links.py --external" not in (WORKFLOWS / other).read_text()
