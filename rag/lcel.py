"""rag inside LangChain: the retriever as a ``BaseRetriever``, the pipeline as a ``Runnable``.

    from rag.lcel import RagRetriever, RagRunnable
    retriever = RagRetriever(pipeline=engine.pipeline, k=4)   # Documents with citation metadata
    chain = {"context": retriever | format_docs, "question": RunnablePassthrough()} | prompt | llm
    answer = RagRunnable(engine.pipeline).invoke("QUESTION")  # an Answer with its citations
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig

from rag.pipeline import Pipeline
from rag.serialize import passage_dict
from rag.types import Answer, Filters, ScoredChunk


def to_document(result: ScoredChunk) -> Document:
    """A LangChain Document: the passage's text, with its ids, offsets, date and scores as metadata."""
    metadata = passage_dict(result)
    text = metadata.pop("text")
    return Document(page_content=text, metadata=metadata, id=result.chunk.id)


class RagRetriever(BaseRetriever):
    """The pipeline's retrieval stages (rank, rerank, collapse) as a LangChain retriever."""

    pipeline: Any  # a rag.pipeline.Pipeline
    k: int = 5
    filters: Filters = Filters()

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [to_document(r) for r in self.pipeline.search(query, self.k, self.filters)]


class RagRunnable(Runnable[str | dict, Answer]):
    """The whole pipeline as a Runnable: a question (or ``{"question", "history"}``) in, an Answer out."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def invoke(self, input: str | dict, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        """The cited answer to the question."""
        if isinstance(input, str):
            return self.pipeline.ask(input)
        return self.pipeline.ask(input["question"], input.get("history"), input.get("k"))
