"""A transformer for LLM training: sizes, MoE settings, and the FLOP counts quoted with
every prediction. Presets live in presets.yaml beside this file; a YAML file with the same
fields describes any other model."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any

import yaml

from orchestrator.documents import DocumentError, load_yaml
from orchestrator.errors import InputError, expected_one_of, not_text
from orchestrator.limits import MAX_COUNT

PRESETS_FILE = os.path.join(os.path.dirname(__file__), "presets.yaml")


@dataclass(frozen=True, slots=True)
class LlmModel:
    name: str
    layers: int
    hidden: int
    heads: int
    ffn: int
    vocab: int
    seq: int = 2048
    kv_heads: int = 0               # 0: as many as heads (MHA)
    mlp: str = "gelu"               # gelu (2 matrices) | swiglu (3 matrices)
    attention: str = "flash"        # flash | unfused
    tied_embeddings: bool = True
    experts: int = 0                # 0: dense
    top_k: int = 1
    moe_ffn: int = 0
    shared_experts: int = 0
    dense_layers: int = 0           # leading layers with a dense MLP in a MoE model
    capacity_factor: float = 1.0

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def kv(self) -> int:
        return self.kv_heads or self.heads

    @property
    def mlp_matrices(self) -> int:
        return 3 if self.mlp == "swiglu" else 2

    def is_moe_layer(self, index: int) -> bool:
        return self.experts > 0 and index >= self.dense_layers

    # -- parameters ---------------------------------------------------------------------------
    def attention_params(self) -> int:
        h, d = self.hidden, self.head_dim
        return h * (self.heads * d + 2 * self.kv * d) + self.heads * d * h

    def dense_mlp_params(self) -> int:
        return self.mlp_matrices * self.hidden * self.ffn

    def moe_params(self) -> int:
        per_expert = self.mlp_matrices * self.hidden * self.moe_ffn
        return (self.experts + self.shared_experts) * per_expert + self.hidden * self.experts

    def layer_params(self, index: int) -> int:
        mlp = self.moe_params() if self.is_moe_layer(index) else self.dense_mlp_params()
        return self.attention_params() + mlp + 4 * self.hidden

    def embedding_params(self) -> int:
        return self.vocab * self.hidden * (1 if self.tied_embeddings else 2)

    def total_params(self) -> int:
        return sum(self.layer_params(i) for i in range(self.layers)) + self.embedding_params()

    # -- FLOPs per iteration --------------------------------------------------------------------
    def model_flops(self, tokens: int, seq: int) -> float:
        """Training FLOPs of ``tokens`` tokens without recomputation: 6 x (active parameters
        in matrix products) per token plus attention 12·l·h·s per token (QK^T and AV, forward
        and backward, no causal discount) — the usual MFU numerator (PaLM, Megatron)."""
        active = self.attention_params() * self.layers
        for index in range(self.layers):
            if self.is_moe_layer(index):
                active += self.mlp_matrices * self.hidden * self.moe_ffn * \
                    (self.top_k + self.shared_experts) + self.hidden * self.experts
            else:
                active += self.dense_mlp_params()
        active += self.vocab * self.hidden          # the output projection (logits)
        attention = 12 * self.layers * self.heads * self.head_dim * seq
        return float(tokens) * (6 * active + attention)

    def megatron_eq3_flops(self, batch: int, seq: int) -> float:
        """Narayanan et al. SC'21, Eq. 3: 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h)), the FLOPs of
        one iteration *with* full activation recomputation (GPT with 4h MLP)."""
        b, s, l, h, v = batch, seq, self.layers, self.hidden, self.vocab
        return 96.0 * b * s * l * h * h * (1 + s / (6 * h) + v / (16 * l * h))


def preset_names() -> list[str]:
    with open(PRESETS_FILE, encoding="utf-8") as handle:
        return sorted(yaml.safe_load(handle))


def _build(name: str, entry: Any, path: str) -> LlmModel:
    if not isinstance(entry, dict):
        raise InputError(f"model {name}: expected a mapping of fields", path)
    known = {f.name for f in fields(LlmModel)} - {"name"}
    unknown = sorted(set(entry) - known, key=str)
    if unknown:
        raise InputError(f"model {name}: unknown field " + expected_one_of(unknown[0], known),
                         path)
    try:
        model = LlmModel(name=name, **entry)
    except TypeError as exc:
        raise InputError(f"model {name}: {exc}", path) from None
    for key in ("layers", "hidden", "heads", "ffn", "vocab", "seq"):
        value = getattr(model, key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError(f"model {name}: {key}: found {value!r}; expected a positive "
                             "whole number", path)
        if value > MAX_COUNT:       # seq 10^20 ended in a protobuf "Value out of range"
            raise InputError(f"model {name}: {key}: found {value}; expected at most "
                             f"{MAX_COUNT} (2^31 - 1)", path)
    if model.hidden % model.heads or model.heads % model.kv:
        raise InputError(f"model {name}: hidden must divide by heads and heads by kv_heads",
                         path)
    if model.mlp not in ("gelu", "swiglu"):
        raise InputError(f"model {name}: mlp: " + expected_one_of(model.mlp, ("gelu", "swiglu")),
                         path)
    if model.attention not in ("flash", "unfused"):
        raise InputError(f"model {name}: attention: "
                         + expected_one_of(model.attention, ("flash", "unfused")), path)
    if model.experts and (model.moe_ffn < 1 or not 1 <= model.top_k <= model.experts):
        raise InputError(f"model {name}: a MoE model needs moe_ffn > 0 and 1 <= top_k <= "
                         "experts", path)
    return model


def load_llm(name_or_path: str) -> LlmModel:
    """A preset name or a YAML file holding one model's fields."""
    if os.path.isfile(name_or_path):
        try:
            with open(name_or_path, encoding="utf-8") as handle:
                doc = load_yaml(handle)         # a key twice, an alias bomb: refused
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"cannot read model file ({exc})", name_or_path) from None
        except DocumentError as exc:
            raise InputError(str(exc), name_or_path, exc.line) from None
        except UnicodeDecodeError as exc:
            raise InputError(not_text(exc), name_or_path) from None
        name = os.path.splitext(os.path.basename(name_or_path))[0]
        if isinstance(doc, dict) and "name" in doc:
            doc = dict(doc)
            name = str(doc.pop("name"))
        return _build(name, doc, name_or_path)
    with open(PRESETS_FILE, encoding="utf-8") as handle:
        presets = yaml.safe_load(handle)
    if name_or_path not in presets:
        raise InputError("unknown model: " + expected_one_of(name_or_path, presets)
                         + " (or a model YAML file)")
    return _build(name_or_path, presets[name_or_path], PRESETS_FILE)
