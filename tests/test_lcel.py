"""rag inside a LangChain LCEL chain: our retriever feeds a prompt, our pipeline is a Runnable."""

from __future__ import annotations

from conftest import SEED_FILE
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from rag.engine import Engine
from rag.lcel import RagRetriever, RagRunnable

QUESTION = "How many Indian troops died in the Pathankot attack?"


def test_the_retriever_gives_documents_with_their_citation_metadata_to_a_chain(seeded: Engine):
    retriever = RagRetriever(pipeline=seeded.pipeline, k=2)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke(QUESTION)
    text = SEED_FILE.read_text(encoding="utf-8")
    for doc in docs:
        meta = doc.metadata
        assert text[meta["start"]:meta["end"]] == doc.page_content
        assert doc.id == meta["chunk_id"] and meta["date"] == "2020-09-12" and meta["doc_id"]
        assert -1.0 <= meta["similarity"] <= 1.0 and meta["fused"] is not None
    prompt = ChatPromptTemplate.from_template("Context:\n{context}\n\nQuestion: {question}")
    chain = ({"context": retriever | RunnableLambda(lambda ds: "\n".join(d.page_content for d in ds)),
              "question": RunnablePassthrough()}
             | prompt | RunnableLambda(lambda p: p.to_string()) | StrOutputParser())
    shown = chain.invoke(QUESTION)
    assert "seven Indian troops" in shown and shown.endswith(QUESTION)


def test_the_pipeline_is_a_runnable_in_a_chain(seeded: Engine):
    chain = RagRunnable(seeded.pipeline) | RunnableLambda(lambda answer: answer.citations[0].quote)
    assert "seven" in chain.invoke(QUESTION)
    answers = RagRunnable(seeded.pipeline).batch([QUESTION, {"question": "Who led the US delegation?"}])
    assert [a.answered for a in answers] == [True, True]
    assert "Nathan Sales" in answers[1].answer
