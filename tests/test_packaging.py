"""The built wheel, installed into a fresh virtual environment, is what a user gets.

Checked from a real wheel (not the editable install the tests run from): no generic top-level
`wizard` package lands in site-packages, the wizard is importable as `kabot_codex.wizard`, the
`kabot` console script works, `py.typed` and the LICENSE ship, and no sub-package of the
repository is left out of the explicit package list in `pyproject.toml`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Building a wheel and a venv takes minutes on a loaded 2-core machine; the default 120 s is too short.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[1]
_NOT_SOURCE = (".venv*", ".git", "__pycache__", "build", "dist", "*.egg-info", ".ruff_cache", ".pytest_cache")


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KABOT", "_KABOT", "OPENAI", "PYTHON"))}
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Build from a copy: an in-tree build leaves build/ and *.egg-info in the checkout.
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(source)])
    (built,) = (root / "dist").glob("kabot_codex-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    env_dir = tmp_path_factory.mktemp("venv") / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", "-c", str(REPO / "constraints.txt"), str(wheel)])
    yield env_dir


def _site_packages(env_dir: Path) -> Path:
    (site,) = env_dir.glob("lib/python*/site-packages")
    return site


def test_wheel_holds_only_the_kabot_codex_namespace(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"kabot_codex"}, f"the wheel installs other top-level names: {sorted(top_level)}"
    assert "kabot_codex/py.typed" in names
    assert "kabot_codex/wizard/flow.py" in names
    assert any(name.endswith((".dist-info/licenses/LICENSE", ".dist-info/LICENSE")) for name in names)

    # `packages` in pyproject.toml is an explicit list (the wizard is mapped from its own
    # folder), so a new sub-package must be added there: fail loudly when one is missing.
    wanted = {
        "kabot_codex/" + str(init.parent.relative_to(REPO / "kabot_codex")).replace(os.sep, "/")
        for init in (REPO / "kabot_codex").rglob("__init__.py")
        if "__pycache__" not in init.parts
    } - {"kabot_codex/."}
    shipped = {name.rsplit("/", 1)[0] for name in names if name.endswith("/__init__.py")}
    missing = sorted(package for package in wanted if package not in shipped)
    assert not missing, f"add these packages to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_installed_wheel_runs_kabot_without_a_top_level_wizard(installed: Path, tmp_path: Path) -> None:
    site = _site_packages(installed)
    assert not (site / "wizard").exists(), "a top-level `wizard` package was installed into site-packages"
    assert (site / "kabot_codex" / "py.typed").is_file()
    assert (site / "kabot_codex" / "wizard" / "__init__.py").is_file()

    home = {"cwd": str(tmp_path)}  # not the checkout: its folders must not shadow the install
    kabot = str(installed / "bin" / "kabot")
    assert "setup" in _run([kabot, "--help"], **home).stdout
    assert "--non-interactive" in _run([kabot, "setup", "--help"], **home).stdout
    probe = _run([str(installed / "bin" / "python"), "-c",
                  "import importlib.util, kabot_codex.wizard.flow;"
                  "print(importlib.util.find_spec('wizard') is None)"], **home)
    assert probe.stdout.strip() == "True"
