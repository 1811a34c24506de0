"""Every ```bash and ```python block in README.md and docs/ runs as pasted, against the emulator.

The reader we model has followed the README: the package is installed (`kabot`, `python` on
PATH are this checkout's), they are logged in and have saved a model order (`kabot setup`).
Everything points at a private emulator on a free port through the documented environment
variables (`OPENAI_CODEX_API_BASE`, `OPENAI_CODEX_AUTH_BASE`, `OPENAI_API_BASE`), with
`KABOT_HOME` in a temporary directory, which is also the working directory.

Python blocks of one file run in order in one interpreter, as if pasted into one session;
bash blocks run with `bash -e`, each on its own, in the same directory and environment.
A block that cannot run (a real login URL, a real account, a long-running server, an install)
is preceded by a line `<!-- not-run: short reason -->`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from kabot_codex.emulator import EmulatorControl

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # several blocks per file, each may import LiteLLM

ROOT = Path(__file__).resolve().parents[1]
RUN_LANGS = {"bash", "python"}
BLOCK_TIMEOUT = 120
NOT_RUN = re.compile(r"^<!--\s*not-run:\s*(?P<reason>.*?)\s*-->$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    not_run: str | None  # the reason, when marked

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks_of(path: Path) -> list[Block]:
    """The fenced blocks of ``path``; an unterminated fence is an error naming its line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, indent = opening.group("fence"), len(opening.group("indent"))
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            body.append(lines[end][indent:] if lines[end][:indent].strip() == "" else lines[end])
            end += 1
        if end == len(lines):
            raise AssertionError(f"{path.relative_to(ROOT)}:{index + 1}: code fence is never closed")
        previous = next((lines[i].strip() for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = NOT_RUN.match(previous)
        found.append(Block(path, index + 1, opening.group("lang").lower(), "\n".join(body) + "\n",
                           marker.group("reason") if marker else None))
        index = end + 1
    return found


# Runs the python blocks of one file in one namespace; one JSON line of result per block.
RUNNER = r'''
import contextlib, io, json, sys, traceback
namespace = {"__name__": "__main__"}
for raw in sys.stdin:
    block = json.loads(raw)
    out = io.StringIO()
    ok = True
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            exec(compile(block["code"], block["where"], "exec"), namespace)
        except BaseException:
            ok = False
            traceback.print_exc()
    sys.__stdout__.write(json.dumps({"ok": ok, "output": out.getvalue()}) + "\n")
    sys.__stdout__.flush()
'''


def _environment(emu: EmulatorControl, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "KABOT", "_KABOT", "CODEX"))}
    env.update({
        "KABOT_HOME": str(home),
        "OPENAI_CODEX_API_BASE": emu.codex_base,
        "OPENAI_CODEX_AUTH_BASE": emu.auth_base,
        "OPENAI_API_BASE": emu.openai_base,
        "OPENAI_API_KEY": "sk-docs-test",
        "CODEX_HOME": str(home / "no-codex-cli"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
    })
    return env


def _seed_login_and_order(emu: EmulatorControl) -> None:
    """What `kabot login` (twice: profiles default and work) + `kabot setup` leave behind."""
    from kabot_codex.auth.login import save_token_login
    from kabot_codex.wizard.apply import apply_setup

    save_token_login(emu.mint_tokens(ttl=86400))
    save_token_login(emu.mint_tokens(ttl=86400), profile="work", active=False)  # docs/auth.md's second account
    apply_setup("openai-codex/gpt-5.5", ["openai/gpt-5.2-codex", "openai/gpt-4o-mini"])


def _failure(block: Block, output: str) -> str:
    return (f"{block.where}: ```{block.lang} block failed (fix it, or mark it with a line "
            f"`<!-- not-run: reason -->` right above the fence):\n{block.code}--- output ---\n{output.strip()}\n")


def _run_file(path: Path, emu: EmulatorControl, work: Path) -> list[str]:
    env = _environment(emu, Path(os.environ["KABOT_HOME"]))
    failures: list[str] = []
    python: subprocess.Popen[str] | None = None
    try:
        for block in blocks_of(path):
            if block.lang not in RUN_LANGS or block.not_run is not None:
                continue
            if block.lang == "bash":
                try:
                    done = subprocess.run(["bash", "-e", "-c", block.code], cwd=work, env=env, text=True,
                                          capture_output=True, timeout=BLOCK_TIMEOUT, stdin=subprocess.DEVNULL)
                except subprocess.TimeoutExpired:
                    failures.append(_failure(block, f"still running after {BLOCK_TIMEOUT} s"))
                    continue
                if done.returncode != 0:
                    failures.append(_failure(block, f"exit {done.returncode}\n{done.stdout}{done.stderr}"))
                continue
            if python is None:
                python = subprocess.Popen([sys.executable, "-c", RUNNER], cwd=work, env=env, text=True,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            assert python.stdin is not None and python.stdout is not None
            python.stdin.write(json.dumps({"code": block.code, "where": block.where}) + "\n")
            python.stdin.flush()
            reply = python.stdout.readline()
            if not reply:
                failures.append(_failure(block, "the interpreter exited"))
                python = None
                continue
            result = json.loads(reply)
            if not result["ok"]:
                failures.append(_failure(block, result["output"]))
    finally:
        if python is not None:
            python.stdin.close()  # type: ignore[union-attr]
            try:
                python.wait(timeout=BLOCK_TIMEOUT)
            except subprocess.TimeoutExpired:
                python.kill()
    return failures


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_blocks_run_as_pasted(path: Path, emu: EmulatorControl, tmp_path: Path) -> None:
    _seed_login_and_order(emu)
    work = tmp_path / "work"
    work.mkdir()
    failures = _run_file(path, emu, work)
    assert not failures, "\n".join(failures)


def test_every_not_run_marker_gives_a_reason_and_sits_on_a_runnable_block() -> None:
    problems = []
    for path in doc_files():
        for block in blocks_of(path):
            if block.not_run is not None and not block.not_run:
                problems.append(f"{block.where}: `<!-- not-run: -->` needs a reason")
            if block.not_run is not None and block.lang not in RUN_LANGS:
                problems.append(f"{block.where}: `not-run` on a ```{block.lang} block, which is never run anyway")
    assert not problems, "\n".join(problems)


def test_block_extraction_names_lines_and_markers(tmp_path: Path) -> None:
    doc = ROOT / "docs" / "_extraction_probe.md"
    text = "# t\n\n```bash\necho 1\n```\n\n<!-- not-run: needs a browser -->\n```python\nprint(2)\n```\n"
    doc.write_text(text)
    try:
        first, second = blocks_of(doc)
    finally:
        doc.unlink()
    assert (first.line, first.lang, first.code, first.not_run) == (3, "bash", "echo 1\n", None)
    assert (second.line, second.lang, second.not_run) == (8, "python", "needs a browser")
