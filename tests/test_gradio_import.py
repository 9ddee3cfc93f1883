"""Opening the window does not make gradio rewrite its components' stubs (rag/window/gradio_import.py)."""

from __future__ import annotations

import subprocess
import sys

from procs import rag_env

SCRIPT = """
import sys

opened = []
sys.addaudithook(lambda event, args: event == "open" and str(args[0]).endswith(".pyi")
                 and opened.append(args[0]))
import rag.api, rag.cli
assert "gradio" not in sys.modules, "gradio imported before the window could keep it from rewriting stubs"
import rag.window
import gradio

assert gradio.Blocks and gradio.Chatbot and gradio.File  # the package imported whole
print(len(opened), opened[:3])
"""


def test_importing_the_window_leaves_gradio_stubs_unread():
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=rag_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("0 "), done.stdout
