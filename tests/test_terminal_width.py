"""`kabot --help` and `kabot status` in real terminals of 60, 80 and 120 columns: nothing is cut.

A wrapped line is fine; a summary cut with "..." or an e-mail cut with "…" is not.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

from kabot_codex.config import edit_config
from tests.catalog.helpers import save_profile

pytestmark = pytest.mark.slow

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\r")
REPO = Path(__file__).resolve().parents[1]
LONG_EMAIL = "first.middle.lastname.for-a-very-long-address@engineering.example-corporation.com"


def kabot(args: list[str], home: Path, columns: int) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "KABOT", "_KABOT", "COLUMNS"))}
    env.update({"KABOT_HOME": str(home), "TERM": "xterm-256color", "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    child = pexpect.spawn(sys.executable, ["-m", "kabot_codex.wizard.cli", *args], env=env, encoding="utf-8",
                          dimensions=(60, columns), timeout=60, cwd=str(REPO))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return ANSI.sub("", child.before)


def _summaries(help_text: str) -> dict[str, str]:
    """Command name → its summary, re-joined across wrapped lines."""
    section = help_text.split("Commands:", 1)[1]
    summaries: dict[str, str] = {}
    name = ""
    for line in section.splitlines():
        match = re.match(r"^  (\S+)\s+(.*)$", line)
        if match:
            name = match.group(1)
            summaries[name] = match.group(2).strip()
        elif line.strip() and name:
            summaries[name] += " " + line.strip()
    return summaries


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_top_level_help_keeps_every_summary_whole(tmp_path: Path, columns: int) -> None:
    import click

    from kabot_codex.cli import cli
    from kabot_codex.wizard import setup_command  # noqa: F401  (registers `setup`)

    shown = _summaries(kabot(["--help"], tmp_path, columns))
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None
        whole = command.get_short_help_str(limit=1_000)
        assert shown.get(name) == whole, f"{name}: {shown.get(name)!r} != {whole!r}"
        assert not shown[name].endswith("...")


def test_status_folds_a_long_email_instead_of_cutting_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("KABOT_HOME", str(home))
    save_profile()
    with edit_config() as config:
        config.codex.profiles["default"].email = LONG_EMAIL
    table = kabot(["status"], home, 80)
    assert "…" not in table, table
    # Re-join the account column (the 4th) across the folded lines of the one row.
    cells = [line.split("│") for line in table.splitlines() if line.count("│") >= 8]
    account = "".join(cell[4].strip() for cell in cells)  # the header uses "┃", not "│"
    assert LONG_EMAIL in account, table
