"""Who may do what: the two roles a token grants, shared by the API and the window."""

from __future__ import annotations

WRITE, READ = "write", "read"
NEED_WRITE = "this token may read but not change the documents (uploads and deletes need RAG_API_TOKEN)"


def may_write(role: str | None) -> bool:
    """Whether a role may upload and delete."""
    return role == WRITE
