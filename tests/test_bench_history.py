"""scripts/bench.py keeps one dated entry per LiteLLM version in docs/performance.md."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bench_report import HISTORY_HEADING, merge_history  # noqa: E402


def page(*entries: list[str]) -> str:
    body: list[str] = []
    for entry in entries:
        body += ["", *entry]
    return "\n".join(["# Performance", "", HISTORY_HEADING, "", "Intro.", *body, "", "## Per-call cost", "x"])


OLD = ["### litellm 1.102.0 — 2026-12-02 03:10 UTC", "", "| shape | ratio |", "|---|---:|", "| sync | 1.10 |"]
NEW = ["### litellm 1.110.2 — 2026-12-02 03:20 UTC", "", "| shape | ratio |", "|---|---:|", "| sync | 1.05 |"]


def test_new_entry_goes_on_top_and_older_entries_are_kept() -> None:
    merged = merge_history(page(OLD), NEW)
    assert merged == [*NEW, "", *OLD]


def test_rerendering_the_same_run_replaces_its_entry() -> None:
    changed = [NEW[0], "", "rerendered"]
    assert merge_history(page(NEW, OLD), changed) == [*changed, "", *OLD]


def test_no_previous_page_or_no_history_section() -> None:
    assert merge_history(None, NEW) == NEW
    assert merge_history("# Performance\n\n## Per-call cost\n", NEW) == NEW


def test_the_committed_page_has_a_section_per_benchmarked_version() -> None:
    text = (ROOT / "docs" / "performance.md").read_text()
    history = text.split(HISTORY_HEADING, 1)[1].split("\n## ", 1)[0]
    headings = [line for line in history.splitlines() if line.startswith("### litellm ")]
    assert headings, "docs/performance.md lost its per-version history"
    assert len(headings) == len(set(headings))
