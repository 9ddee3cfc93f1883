"""kill -9 a real `rag serve` during uploads and during deletes, N rounds each: documents lost, and the
seconds from each restart to ready, with a right answer after every restart and no manual step.

    PYTHONPATH=. python benchmarks/kill_campaign.py [--uploads 10] [--deletes 10]

An upload round sends a new 150-chunk document and a new version of ``keep.txt`` and kills the server
0.2-3 s later (while it indexes); a delete round deletes one 150-chunk document and kills 10-80 ms
later. "lost" counts documents the server had acknowledged that are missing after the restart. The
folder (with the server's output in ``serve.log``) is kept when a restart fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path

import httpx
from serve_latency import QUESTION, start, stop

WORDS = "river bridge council budget storm harbour vaccine election rail wheat court festival".split()


def big_text(n: int, chunks: int = 150) -> bytes:
    """A made-up report of about ``chunks`` chunks."""
    rng = random.Random(n)
    sentences = [" ".join(rng.choice(WORDS) for _ in range(14)).capitalize() + "."
                 for _ in range(chunks * 10)]
    return f"Big report {n}.\n\n{' '.join(sentences)}\n".encode()


def documents(url: str) -> dict[str, int]:
    """Document id -> chunks, as the server lists them."""
    listed = httpx.get(f"{url}/api/documents", timeout=300).json()["documents"]
    return {d["id"]: d["chunks"] for d in listed}


def answers(url: str) -> bool:
    """The seed question is answered right and a search works."""
    reply = httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=300)
    search = httpx.post(f"{url}/api/search", json={"query": "harbour budget"}, timeout=300)
    return reply.status_code == 200 and "seven" in reply.json()["answer"] and search.status_code == 200


def kill_during(proc, seconds: float, request) -> str:
    """Send ``request`` in a thread and SIGKILL the server ``seconds`` later; what the client saw."""
    seen = ["cut"]

    def send() -> None:
        with contextlib.suppress(httpx.HTTPError):
            seen[0] = str(request().status_code)

    thread = threading.Thread(target=send)
    thread.start()
    time.sleep(seconds)
    proc.kill()
    proc.wait()
    thread.join()
    return seen[0]


class Campaign:
    """One index and upload area, a server killed and started again over them."""

    def __init__(self, tmp: Path) -> None:
        self.index, self.data, self.log = tmp / "index", tmp / "data", tmp / "serve.log"
        self.proc, self.url, _ = start(self.index, self.data, log=self.log)
        self.lost = 0
        self.ready: list[float] = []
        self.wrong = 0

    def restart(self, label: str, expected: dict[str, int], extra: str = "") -> dict[str, int]:
        """Start the server again; print what survived; the documents it lists."""
        self.proc, self.url, ready_s = start(self.index, self.data, log=self.log)
        now = documents(self.url)
        lost = sorted(set(expected) - set(now))
        right = answers(self.url)
        leftovers = [p.name for p in (self.data / "uploads").glob(".*")]
        self.lost += len(lost)
        self.ready.append(ready_s)
        self.wrong += not right
        print(f"{label}: ready after {ready_s:.1f}s, {len(now)} documents, lost {lost or 0}, "
              f"answers {'right' if right else 'WRONG'}, temp files {leftovers or 0}{extra}", flush=True)
        return now


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=10, help="upload rounds")
    parser.add_argument("--deletes", type=int, default=10, help="delete rounds")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rag-kill-"))
    run = Campaign(tmp)
    rng = random.Random(11)
    try:
        files = [("files", (f"big{n}.txt", big_text(n))) for n in range(args.deletes)]
        files.append(("files", ("keep.txt", b"The keep file says the well is 12 metres deep.")))
        httpx.post(f"{run.url}/api/documents", files=files, timeout=3600).raise_for_status()
        expected = documents(run.url)
        big = sorted(d for d, chunks in expected.items() if chunks > 100)
        for n in range(args.uploads):
            keep = f"The keep file says the well is {20 + n} metres deep.".encode()
            upload = [("files", (f"round{n}.txt", big_text(100 + n))), ("files", ("keep.txt", keep))]
            delay = rng.uniform(0.2, 3.0)
            seen = kill_during(run.proc, delay, lambda u=upload: httpx.post(
                f"{run.url}/api/documents", files=u, timeout=300))
            now = run.restart(f"upload round {n} (killed after {delay:.2f}s, client saw {seen})", expected)
            expected = now if seen == "200" else expected
        for n, victim in enumerate(big):
            delay = rng.uniform(0.01, 0.08)
            seen = kill_during(run.proc, delay, lambda v=victim: httpx.delete(
                f"{run.url}/api/documents/{v}", timeout=300))
            expected.pop(victim)
            now = run.restart(f"delete round {n} (killed after {delay * 1000:.0f}ms, client saw {seen})",
                              expected)
            state = "gone" if victim not in now else f"{now[victim]} chunks"
            print(f"    deleted document {victim}: {state}")
            expected = {**expected, **({victim: now[victim]} if victim in now else {})}
        print(f"rounds {args.uploads} + {len(big)}: documents lost {run.lost}; restarts answering wrong "
              f"{run.wrong}; ready after median {sorted(run.ready)[len(run.ready) // 2]:.1f}s, max "
              f"{max(run.ready):.1f}s; load average {os.getloadavg()[0]:.1f}")
    finally:
        stop(run.proc)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
