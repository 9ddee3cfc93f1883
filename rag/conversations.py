"""Saved conversations: each question with its answer and citations, in SQLite under the data folder."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from rag.errors import ConversationNotFound, InvalidRequest
from rag.types import Answer, Citation, Sentence

FILENAME = "conversations.sqlite3"
MAX_TITLE = 200
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, collection TEXT, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    n INTEGER NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, PRIMARY KEY (conversation, n));
"""


@dataclass(frozen=True)
class ConversationSummary:
    """A conversation as listed: its title (the first question unless renamed) and when it last changed."""

    id: str
    title: str
    collection: str | None
    created: float
    updated: float


@dataclass(frozen=True)
class Conversation:
    """A saved conversation with every answer, oldest first."""

    summary: ConversationSummary
    answers: list[Answer]

    def history(self) -> list[tuple[str, str]]:
        """The turns as (question, answer text) pairs, for follow-up questions."""
        return [(a.question, a.answer) for a in self.answers]


class ConversationStore:
    """Conversations in one SQLite file; every call opens its own connection, so threads may share it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def in_folder(cls, data_dir: Path) -> ConversationStore:
        """The store kept in DATA_DIR/conversations.sqlite3."""
        return cls(data_dir / FILENAME)

    def add(self, conversation_id: str | None, answer: Answer, collection: str | None = None) -> str:
        """Save an answer as the next turn, starting a conversation when the id is None or unknown."""
        now = time.time()
        with self._db() as db:
            known = conversation_id and db.execute(
                "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if not known:
                conversation_id = uuid.uuid4().hex[:16]
                db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                           (conversation_id, _title(answer.question), collection, now, now))
            n = db.execute("SELECT COUNT(*) FROM turns WHERE conversation = ?",
                           (conversation_id,)).fetchone()[0]
            db.execute("INSERT INTO turns VALUES (?, ?, ?, ?)",
                       (conversation_id, n, answer.question, json.dumps(asdict(answer))))
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
        return conversation_id

    def list(self) -> list[ConversationSummary]:
        """Every conversation, the most recently continued first."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM conversations ORDER BY updated DESC").fetchall()
        return [ConversationSummary(*row) for row in rows]

    def get(self, conversation_id: str) -> Conversation:
        """A conversation with its answers and citations."""
        with self._db() as db:
            row = db.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if row is None:
                raise ConversationNotFound(f"no conversation with id {conversation_id!r}")
            turns = db.execute("SELECT answer FROM turns WHERE conversation = ? ORDER BY n",
                               (conversation_id,)).fetchall()
        return Conversation(ConversationSummary(*row), [answer_from_dict(json.loads(t)) for (t,) in turns])

    def rename(self, conversation_id: str, title: str) -> None:
        """Give a conversation another title."""
        title = " ".join((title or "").split())
        if not title:
            raise InvalidRequest("the new title is empty")
        with self._db() as db:
            changed = db.execute("UPDATE conversations SET title = ? WHERE id = ?",
                                 (title[:MAX_TITLE], conversation_id)).rowcount
        if not changed:
            raise ConversationNotFound(f"no conversation with id {conversation_id!r}")

    def delete(self, conversation_id: str) -> None:
        """Remove a conversation and its turns."""
        with self._db() as db:
            db.execute("DELETE FROM turns WHERE conversation = ?", (conversation_id,))
            removed = db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,)).rowcount
        if not removed:
            raise ConversationNotFound(f"no conversation with id {conversation_id!r}")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction, committed on success."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            db.executescript(_SCHEMA)
            yield db


def _title(question: str) -> str:
    """A conversation's first title: its first question on one line."""
    return " ".join(question.split())[:MAX_TITLE]


def answer_from_dict(data: dict) -> Answer:
    """An Answer back from its JSON shape; fields a newer version added are kept when known, else dropped."""
    known = {f.name for f in fields(Citation)}
    citations = [Citation(**{k: tuple(v) if isinstance(v, list) else v  # JSON keeps spans as lists
                             for k, v in c.items() if k in known}) for c in data.get("citations", [])]
    sentences = [Sentence(**{k: v for k, v in s.items() if k in _SENTENCE_FIELDS})
                 for s in data.get("sentences", [])]
    answer_fields = {f.name for f in fields(Answer)} - {"citations", "sentences"}
    return Answer(citations=citations, sentences=sentences,
                  **{k: v for k, v in data.items() if k in answer_fields})


_SENTENCE_FIELDS = {f.name for f in fields(Sentence)}
