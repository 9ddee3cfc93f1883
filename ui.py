"""Run the chat window (with the API beside it) on the default index: ``python ui.py``."""

from rag.cli import main

if __name__ == "__main__":
    main(["serve"])
