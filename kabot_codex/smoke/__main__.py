"""``python -m kabot_codex.smoke``."""

from __future__ import annotations

import sys

from kabot_codex.smoke.cli import main

if __name__ == "__main__":
    sys.exit(main())
