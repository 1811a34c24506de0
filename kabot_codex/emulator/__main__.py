"""``python -m kabot_codex.emulator --port N``: serve until SIGTERM/SIGINT, then exit 0."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from kabot_codex.emulator.client import LISTENING_PREFIX
from kabot_codex.emulator.server import Emulator


def main(argv: list[str] | None = None) -> int:
    """Run the emulator in the foreground."""
    parser = argparse.ArgumentParser(prog="python -m kabot_codex.emulator",
                                     description="Local ChatGPT Codex backend + OAuth issuer emulator.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0 picks a free one)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    # Hundreds of mostly idle handler threads: a short GIL switch interval keeps the accept loop
    # and freshly woken streams from queueing behind each other for 5 ms at a time.
    sys.setswitchinterval(0.0005)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # Served from a thread (Emulator does that): shutdown() from a signal handler on the
    # serving thread would deadlock.
    try:
        emulator = Emulator(args.host, args.port, verbose=args.verbose).start()
    except OSError as exc:
        # The kabot CLI's error format (kabot_codex/cli/errors.py), not a traceback.
        reason = exc.strerror or type(exc).__name__
        sys.stderr.write(f"error: cannot listen on {args.host}:{args.port} ({reason})\n"
                         "fix: pick another port with --port N, or --port 0 for a free one\n")
        return 1
    sys.stdout.write(f"{LISTENING_PREFIX}{emulator.url}\n")
    sys.stdout.flush()
    while not stop.wait(1.0):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
