"""Re-measure the verifier against the hand labels, from the stored generations: no model, seconds.

For every stored generation (``benchmarks/verifier_generate.py``) each sentence the model wrote is
checked by the verifier and compared with its label in ``benchmarks/verifier_labels.jsonl``
(supported / unsupported by the passages the model was given; filler sentences are not counted).
Prints precision and recall of "supported", and how often answerable questions were declined: by
the gate before the model, by the model itself, and in the final answer (after the fallbacks).

    PYTHONPATH=. python3 benchmarks/verifier_measure.py benchmarks/verifier_generations*.jsonl
    PYTHONPATH=. python3 benchmarks/verifier_measure.py --unlabelled FILE   # sentences still to label
"""

from __future__ import annotations

import argparse
import inspect
import json
from pathlib import Path

from verifier_set import GENERATIONS, LABELS, SETS, passages, read_jsonl

from rag.answer.extractive import ExtractiveAnswerer
from rag.answer.verification import Verifier, split_claims
from rag.embedding import shared_embedder
from rag.eval.data import read_eval_set
from rag.settings import Settings


def main() -> None:
    """Print the figures, or the sentences that have no label yet."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generations", type=Path, nargs="*", default=[GENERATIONS])
    parser.add_argument("--unlabelled", action="store_true", help="print unlabelled sentences as jsonl")
    args = parser.parse_args()
    settings = Settings.load()
    verifier = Verifier(shared_embedder(), settings.min_support)
    labels = {(r["set"], r["id"], r["sentence"]): r["label"] for r in read_jsonl(LABELS)} \
        if LABELS.exists() else {}
    questions = {(name, q.id): q.question for name, folder in SETS.items()
                 for q in read_eval_set(folder).queries}
    for path in args.generations:
        records = read_jsonl(path)
        if args.unlabelled:
            print_unlabelled(records, labels)
            continue
        verdicts = [(key, labels[key], ok) for key, ok in sentence_verdicts(records, verifier, questions)
                    if labels.get(key) in ("supported", "unsupported")]
        print(f"== {path.name}: {len(records)} questions ==")
        print_scores([(label, ok) for _, label, ok in verdicts])
        for key, label, ok in verdicts:
            if (label == "supported") != ok:
                print(f"  labelled {label}, verifier {'supported' if ok else 'unsupported'}: {key}")
        print_declines(records, questions, verifier, settings)


def sentence_verdicts(records: list[dict], verifier: Verifier, questions: dict):
    """((set, id, sentence), supported by the verifier) for every sentence the model wrote."""
    takes_question = "question" in inspect.signature(verifier.verify).parameters
    for r in records:
        if not r["raw"].strip():
            continue
        found = passages(r["set"], r["passages"])
        extra = {"question": asked(r, questions)} if takes_question else {}
        checked = verifier.verify(r["raw"], found, **extra)
        for claim in split_claims(r["raw"], len(found)):
            yield (r["set"], r["id"], claim.text), claim.text not in checked.unsupported


def print_scores(verdicts: list[tuple[str, bool]]) -> None:
    """Precision and recall of the verifier's "supported" against the labels."""
    true_pos = sum(label == "supported" and ok for label, ok in verdicts)
    said = sum(ok for _, ok in verdicts)
    gold = sum(label == "supported" for label, _ in verdicts)
    print(f"labelled sentences {len(verdicts)} (supported {gold}, unsupported {len(verdicts) - gold})")
    print(f"verifier precision {true_pos / max(1, said):.3f} ({true_pos}/{said})  "
          f"recall {true_pos / max(1, gold):.3f} ({true_pos}/{gold})")


def print_declines(records: list[dict], questions: dict, verifier: Verifier, settings: Settings) -> None:
    """Answerable questions declined by the gate, by the model, and in the answer finally shown."""
    try:
        from rag.answer.policy import AnswerPolicy, declines
    except ImportError:  # a tree from before the answer policy: the model's decline was final
        from rag.answer.generative import declines
        AnswerPolicy = None
    extractive = ExtractiveAnswerer(verifier.embedder)  # as build_pipeline builds it
    for set_name in SETS:
        rows = [r for r in records if r["set"] == set_name and r["answerable"]]
        if not rows:
            continue
        gate = sum(r["gate_declined"] for r in rows)
        model = sum(not r["gate_declined"] and declines(r["raw"]) for r in rows)
        final = gate + model
        if AnswerPolicy is not None:
            policy = AnswerPolicy(verifier, extractive, settings.strict)
            final = gate + sum(not policy.answer(questions[(r["set"], r["id"])], asked(r, questions),
                                                 r["raw"], passages(r["set"], r["passages"]), "gguf").answered
                               for r in rows if not r["gate_declined"])
        print(f"{set_name}: answerable {len(rows)}, declined by the gate {gate}, by the model {model}, "
              f"in the final answer {final}")


def asked(record: dict, questions: dict) -> str:
    """What the model was asked: a follow-up as condensed with its conversation, else the question."""
    return record.get("query") or questions[(record["set"], record["id"])]


def print_unlabelled(records: list[dict], labels: dict) -> None:
    """Each sentence without a label, as a labels.jsonl line to complete."""
    for r in records:
        for claim in split_claims(r["raw"], len(r["passages"])):
            if (r["set"], r["id"], claim.text) not in labels:
                print(json.dumps({"set": r["set"], "id": r["id"], "question": r["question"],
                                  "passages": [p["doc_id"] for p in r["passages"]], "cited": claim.cited,
                                  "sentence": claim.text, "label": ""}, ensure_ascii=False))


if __name__ == "__main__":
    main()
