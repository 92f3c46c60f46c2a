"""The pure modules of the plans app import without Django (as tests/test_architecture.py
checks for the others) and type-check strictly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = ["apps.plans.terms", "apps.plans.windows", "apps.plans.verdict", "apps.plans.resume",
        "apps.plans.resumes", "apps.plans.breakeven", "apps.plans.charts", "apps.plans.display"]  # fmt: skip


def test_pure_plan_modules_import_without_django():
    script = (
        "import importlib, json, sys\n"
        f"for name in {PURE!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'django')))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


@pytest.mark.skipif(
    not shutil.which("mypy", path=str(Path(sys.executable).parent)), reason="mypy not installed"
)
def test_pure_plan_modules_pass_mypy_strict():
    files = [str(ROOT / (name.replace(".", "/") + ".py")) for name in PURE]
    mypy = str(Path(sys.executable).parent / "mypy")
    result = subprocess.run([mypy, "--strict", *files], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
