"""Child process of the refresh-storm test.

Prints ``ready`` once imported, waits for a line on stdin, then calls
``session_for("default").get()`` from THREADS threads and ``aget()`` from TASKS asyncio tasks
at the same moment, and prints one JSON line: the tokens it got and any errors.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading

from kabot_codex.auth.session import session_for


def main(threads: int, tasks: int) -> None:
    tokens: list[str] = []
    errors: list[str] = []
    go = threading.Event()

    def call() -> None:
        go.wait()
        try:
            tokens.append(session_for("default").get().token)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    async def fan_out() -> None:
        results = await asyncio.gather(*(session_for("default").aget() for _ in range(tasks)),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                errors.append(f"{type(result).__name__}: {result}")
            else:
                tokens.append(result.token)

    workers = [threading.Thread(target=call) for _ in range(threads)]
    for worker in workers:
        worker.start()
    print("ready", flush=True)
    sys.stdin.readline()
    go.set()
    asyncio.run(fan_out())
    for worker in workers:
        worker.join()
    print(json.dumps({"tokens": tokens, "errors": errors}), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
