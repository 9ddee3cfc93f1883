"""A progress bar with rate and ETA for long indexing runs (tqdm on stderr)."""

from __future__ import annotations


class ProgressBar:
    """Context manager whose ``update(done, total)`` drives a tqdm bar, created on first use."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._bar = None

    def update(self, done: int, total: int) -> None:
        """Move the bar to ``done`` of ``total`` chunks."""
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.label, unit="chunk", dynamic_ncols=True)
        self._bar.update(done - self._bar.n)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()
