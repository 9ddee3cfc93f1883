"""Verification of generated answers on crafted text, against the real seed passages and MiniLM."""

from __future__ import annotations

import pytest

from rag.answer.verification import Verifier, split_claims
from rag.engine import Engine
from rag.types import ScoredChunk

TROOPS = "seven Indian troops"


@pytest.fixture
def passages(seeded: Engine) -> list[ScoredChunk]:
    """The seed's passages, the one that reports the Pathankot dead placed first."""
    found = seeded.search("Pathankot attack Indian Air Force base troops killed", k=5)
    found.sort(key=lambda p: TROOPS not in p.chunk.text)
    assert TROOPS in found[0].chunk.text and TROOPS not in found[-1].chunk.text
    return found


@pytest.fixture
def verifier(seeded: Engine) -> Verifier:
    """The verifier with the default support threshold."""
    return Verifier(seeded.embedder, seeded.settings.min_support)


def test_a_correct_citation_is_verified_and_resolves(seeded, passages, verifier):
    checked = verifier.verify("The Pathankot attack killed seven Indian troops [1].", passages)
    assert checked.unsupported == [] and checked.dropped == 0
    [citation] = checked.citations
    assert citation.verified and citation.quote == "The attack killed seven Indian troops."
    assert seeded.lookup(citation.id).quote == citation.quote
    assert checked.text == "The Pathankot attack killed seven Indian troops. [1]"


def test_a_marker_for_a_passage_that_does_not_exist_is_dropped(passages, verifier):
    checked = verifier.verify("The Pathankot attack killed seven Indian troops [9].", passages)
    assert checked.dropped == 1
    assert "[9]" not in checked.text
    # the sentence is still true, so the passage that supports it is attached instead
    assert [c.verified for c in checked.citations] == [True]
    assert TROOPS in checked.citations[0].quote


def test_a_true_sentence_citing_the_wrong_passage_is_cited_to_the_one_that_says_it(passages, verifier):
    other = len(passages)
    checked = verifier.verify(f"The Pathankot attack killed seven Indian troops [{other}].", passages)
    [citation] = checked.citations
    assert citation.verified and TROOPS in citation.quote
    assert checked.unsupported == []


def test_a_false_sentence_citing_a_passage_is_flagged_at_that_passage(passages, verifier):
    other = len(passages)
    checked = verifier.verify(f"The Pathankot attack killed nine Indian troops [{other}].", passages)
    [citation] = checked.citations
    assert not citation.verified
    assert citation.chunk_id == passages[-1].chunk.id  # still points at the passage it named
    assert checked.unsupported == ["The Pathankot attack killed nine Indian troops."]


def test_a_changed_number_is_not_verified(passages, verifier):
    checked = verifier.verify("The Pathankot attack killed nine Indian troops [1].", passages)
    [citation] = checked.citations
    assert not citation.verified
    assert checked.unsupported == ["The Pathankot attack killed nine Indian troops."]


def test_each_sentence_is_checked_on_its_own(passages, verifier):
    text = ("The Pathankot attack killed seven Indian troops [1]. "
            "The Mumbai attacks were carried out by ten LeT gunmen from Pakistan [1][2].")
    checked = verifier.verify(text, passages)
    assert checked.unsupported == []
    verified = [c for c in checked.citations if c.verified]
    assert any("ten LeT gunmen" in c.quote for c in verified)
    assert all(c.quote in c.passage for c in checked.citations)


def test_markers_after_the_period_stay_with_their_sentence():
    claims = split_claims("Seven died. [1] The base was hit [2][5]. Done [1, 3].", passages=3)
    assert [(c.text, c.cited, c.dropped) for c in claims] == [
        ("Seven died.", [1], []), ("The base was hit.", [2], [5]), ("Done.", [1, 3], [])]


MUSICALS = {
    "revival.txt": "Since 2019 the lawyer Billy Flynn has been played by Tony Yazbeck, who took over the "
                   "part from Brian O'Brien. The show is Chicago, the longest-running American musical "
                   "revival on Broadway.\n",
    "song.txt": "Fooled Around and Fell in Love is a song written and performed by blues guitarist Elvin "
                "Bishop. Bishop does not sing lead vocals on the track; feeling that his gravelly voice "
                "would not do the song justice, he invited vocalist Mickey Thomas to sing it.\n",
    "tomorrow.txt": "Will You Love Me Tomorrow is a song written by Gerry Goffin and Carole King. It was "
                    "a number one hit in 1961.\n",
    "dam.txt": "The Three Gorges Dam spans the Yangtze river. It was built by the government of China "
               "and finished in 2012.\n",
    "head.txt": "Can't Get You Out of My Head is a song recorded by Australian singer Kylie Minogue. It was "
                "jointly written and produced by Cathy Dennis and Rob Davis.\n",
    "heel.txt": "The exact origin of the nickname Tar Heel is unknown, but most folklore believe it comes "
                "from the tar that North Carolina once exported.\n",
    "cte.txt": "The pathologist Omalu published the first report of CTE in a former football player "
               "in 2005.\n",
}


@pytest.fixture
def library(engine: Engine, tmp_path) -> Engine:
    """An engine over seven short documents in a real Chroma folder."""
    folder = tmp_path / "library"
    folder.mkdir()
    for name, text in MUSICALS.items():
        (folder / name).write_text(text, encoding="utf-8")
    engine.index([folder])
    return engine


def passage_about(engine: Engine, words: str) -> list[ScoredChunk]:
    """The retrieved passage that contains the words, alone."""
    return [p for p in engine.search(words, k=3) if words in p.chunk.text][:1]


def test_a_fact_stated_across_two_neighbouring_sentences_is_supported(library, verifier):
    passages = passage_about(library, "Billy Flynn")
    claim = "Tony Yazbeck currently plays Billy Flynn in Chicago [1]."
    checked = verifier.verify(claim, passages)
    assert checked.unsupported == []
    [citation] = checked.citations
    assert citation.quote.startswith("Since 2019") and citation.quote.endswith("on Broadway.")
    assert library.lookup(citation.id).quote == citation.quote  # the span covers both sentences


def test_a_negation_about_the_same_subject_is_caught(library, verifier):
    passages = passage_about(library, "Elvin Bishop")
    wrong = verifier.verify("Elvin Bishop sings Fooled Around and Fell in Love [1].", passages)
    assert wrong.unsupported == ["Elvin Bishop sings Fooled Around and Fell in Love."]
    right = verifier.verify("Mickey Thomas sings the lead vocals on Fooled Around and Fell in Love [1].",
                            passages)
    assert right.unsupported == [] and right.sentences[0].supported


def test_a_nationality_matches_the_country_the_passage_names(library, verifier):
    passages = passage_about(library, "Three Gorges")
    checked = verifier.verify("The Three Gorges Dam was built by the Chinese government [1].", passages)
    assert checked.unsupported == [] and checked.citations[0].verified
    other = verifier.verify("The Three Gorges Dam was built by the Japanese government [1].", passages)
    assert other.unsupported == ["The Three Gorges Dam was built by the Japanese government."]


def test_a_bare_answer_is_checked_together_with_its_question(seeded, verifier):
    question = "How many people were killed in the Mumbai attacks?"
    found = seeded.search(question, k=3)
    assert verifier.verify("166 [1]", found, question).unsupported == []
    assert verifier.verify("Nepal [1]", found, question).unsupported == ["Nepal"]
    assert verifier.verify("It rained [1]", found, question).unsupported == ["It rained"]


def test_a_number_that_counts_something_else_in_the_passage_is_not_verified(seeded, verifier):
    question = "How many American citizens died in the Mumbai attacks?"
    found = seeded.search(question, k=3)
    assert verifier.verify("166 [1]", found, question).unsupported == ["166"]
    assert verifier.verify("Six [1]", found, question).unsupported == []
    wrong = "166 American citizens died in the Mumbai attacks [1]."
    assert verifier.verify(wrong, found, question).unsupported == [wrong.replace(" [1]", "")]
    right = "The attacks killed 166 people, six of them American citizens [1]."
    assert verifier.verify(right, found, question).unsupported == []


@pytest.mark.parametrize(("about", "wrong", "right"), [
    pytest.param("Carole King", "Carole King sings Will You Love Me Tomorrow [1].",
                 "Carole King wrote Will You Love Me Tomorrow with Gerry Goffin [1].",
                 id="a songwriter stated as the singer"),
    pytest.param("Cathy Dennis", "Kylie Minogue wrote Can't Get You Out of My Head [1].",
                 "Cathy Dennis and Rob Davis wrote Can't Get You Out of My Head [1].",
                 id="a role the passage gives to other names"),
    pytest.param("Tar Heel",
                 "The nickname Tar Heel comes from the tar that North Carolina once exported [1].",
                 "Most folklore believe the nickname Tar Heel comes from the tar North Carolina "
                 "exported [1].",
                 id="a fact the passage calls uncertain, stated as certain"),
    pytest.param("Omalu", "Bennet Omalu published the first report of CTE in 2005 [1].",
                 "Omalu published the first report of CTE in 2005 [1].",
                 id="a name that opens the sentence"),
])
def test_a_claim_the_passage_words_otherwise_is_not_verified_and_its_right_form_is(
        library, verifier, about, wrong, right):
    passages = passage_about(library, about)
    assert verifier.verify(wrong, passages).unsupported == [wrong.replace(" [1]", "")]
    assert verifier.verify(right, passages).unsupported == []


def test_a_name_the_paragraph_or_the_question_states_earlier_counts(seeded, verifier):
    question = "How many men did Pakistani agencies arrest over the Mumbai attacks?"
    found = [p for p in seeded.search(question, k=5) if "arrested seven men" in p.chunk.text]
    right = verifier.verify("Seven men were arrested over the Mumbai attacks [1].", found, question)
    assert right.unsupported == []
    wrong = verifier.verify("Seven men were arrested over the Pathankot attack [1].", found, question)
    assert wrong.unsupported == ["Seven men were arrested over the Pathankot attack."]
