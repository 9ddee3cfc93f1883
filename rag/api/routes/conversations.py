"""``/api/conversations``: the conversations the chat window saved, to list, read, rename and delete."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from rag.api.deps import RuntimeDep
from rag.api.models import ConversationList, ConversationOut, ConversationRename, ConversationSummaryOut

router = APIRouter(prefix="/api/conversations", tags=["conversations"])
_UNKNOWN = {404: {"description": "Unknown conversation id."}}


@router.get("", response_model=ConversationList)
def conversations(runtime: RuntimeDep) -> ConversationList:
    """Saved conversations, the most recently continued first."""
    return ConversationList(conversations=[asdict(s) for s in runtime.conversations.list()])


@router.get("/{conversation_id}", response_model=ConversationOut, responses=_UNKNOWN)
def conversation(conversation_id: str, runtime: RuntimeDep) -> ConversationOut:
    """One conversation with its answers and their citations."""
    saved = runtime.conversations.get(conversation_id)
    return ConversationOut(**asdict(saved.summary), answers=[a.to_dict() for a in saved.answers])


@router.patch("/{conversation_id}", response_model=ConversationSummaryOut, responses=_UNKNOWN)
def rename(conversation_id: str, body: ConversationRename, runtime: RuntimeDep) -> ConversationSummaryOut:
    """Give a conversation another title."""
    runtime.conversations.rename(conversation_id, body.title)
    return ConversationSummaryOut(**asdict(runtime.conversations.get(conversation_id).summary))


@router.delete("/{conversation_id}", status_code=204, responses=_UNKNOWN)
def delete(conversation_id: str, runtime: RuntimeDep) -> None:
    """Remove a conversation."""
    runtime.conversations.delete(conversation_id)
