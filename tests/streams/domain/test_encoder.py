"""The numpy sentence encoder against sentence-transformers' own output.

``data/encoder_reference.json`` was written by sentence-transformers 5 on PyTorch
(``SentenceTransformer(...).encode(texts, normalize_embeddings=True)`` and its
tokenizer's ``input_ids``) for the packaged all-MiniLM-L6-v2, without the adapter;
the adapter carries its own PyTorch vectors, which loading checks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.domain import encoder as encoder_module
from streams.domain.encoder import ADAPTER, cosine, load_encoder
from streams.errors import ModelError

REFERENCE = json.loads((Path(__file__).parent / "data" / "encoder_reference.json").read_text("utf-8"))


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: c["text"][:20] or "empty")
def test_tokens_and_vector_equal_the_reference(case: dict[str, object]) -> None:
    encoder = load_encoder(adapted=False)
    assert encoder.tokens(str(case["text"])) == case["ids"]
    vector = encoder.embed(str(case["text"]))
    assert np.abs(vector - np.asarray(case["vector"], dtype=np.float32)).max() < 1e-4


def test_padding_in_a_batch_changes_no_vector() -> None:
    # The network itself, not embed_many, whose cache could answer from an earlier call.
    encoder = load_encoder()
    texts = ["short one", "a much longer sentence about jets bombing the panjshir valley today", "x"]
    batched = encoder._forward([encoder.tokens(t) for t in texts])
    for text, vector in zip(texts, batched, strict=True):
        alone = encoder._forward([encoder.tokens(text)])[0]
        assert np.abs(vector - alone).max() < 1e-5


def test_paraphrase_is_closer_than_a_topic_neighbour() -> None:
    encoder = load_encoder()
    claim = encoder.embed("pakistani jets are bombing the panjshir valley")
    reworded = encoder.embed("pakistan air force aircraft strike panjshir")
    neighbour = encoder.embed("the taliban say they have conquered panjshir")
    assert cosine(claim, reworded) > cosine(claim, neighbour)


@settings(max_examples=60)
@given(st.text(max_size=400))
def test_any_text_gives_bounded_ids_and_a_unit_vector(text: str) -> None:
    encoder = load_encoder()
    ids = encoder.tokens(text)
    assert ids[0] == 101 and ids[-1] == 102 and len(ids) <= 128
    assert all(0 <= i < 30522 for i in ids)
    assert abs(float(np.linalg.norm(encoder.embed(text))) - 1.0) < 1e-4


def test_a_long_text_is_cut_to_the_maximum_length() -> None:
    assert len(load_encoder().tokens("word " * 1000)) == 128


def test_a_directory_without_a_model_is_refused_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=str(tmp_path)):
        load_encoder(str(tmp_path))


def test_the_packaged_adapter_loads_and_moves_the_vectors() -> None:
    adapted, plain = load_encoder(adapted=True), load_encoder()
    assert adapted.adapter is not None and plain.adapter is None
    text = "pakistani jets are bombing the panjshir valley"
    assert 0.5 < cosine(adapted.embed(text), plain.embed(text)) < 0.9999


def test_an_adapter_that_does_not_reproduce_its_check_vectors_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with np.load(ADAPTER) as saved:
        parts = {name: saved[name] for name in saved.files}
    for name in [n for n in parts if n.endswith(".value.B")]:
        parts[name] = parts[name] * 3  # a damaged or mismatched file
    damaged = tmp_path / "adapter.npz"
    np.savez(damaged, **parts)
    monkeypatch.setattr(encoder_module, "ADAPTER", damaged)
    with pytest.raises(ModelError, match="does not reproduce its check vectors"):
        load_encoder.__wrapped__(adapted=True)


def test_an_adapter_for_another_model_is_refused_with_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with np.load(ADAPTER) as saved:
        parts = {name: saved[name] for name in saved.files}
    parts["9.query.A"] = parts["0.query.A"]  # a layer this model does not have
    parts["9.query.B"] = parts["0.query.B"]
    other = tmp_path / "adapter.npz"
    np.savez(other, **parts)
    monkeypatch.setattr(encoder_module, "ADAPTER", other)
    with pytest.raises(ModelError, match=f"adapter {other} does not fit the model"):
        load_encoder.__wrapped__(adapted=True)


def test_a_model_directory_that_is_not_bert_is_refused_with_what_it_lacks(tmp_path: Path) -> None:
    header = json.dumps({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    (tmp_path / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + bytes(4))
    (tmp_path / "config.json").write_text('{"num_attention_heads": 1, "hidden_size": 1}', encoding="utf-8")
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n", encoding="utf-8")
    with pytest.raises(ModelError, match=r"lacks embeddings\.word_embeddings\.weight: not a BERT model"):
        load_encoder.__wrapped__(str(tmp_path))
