"""The shipped embedders: minilm-onnx (the default: all-MiniLM-L6-v2 as int8 ONNX) and m2v (a static
model distilled from it) ship with coo, load offline and run without torch; the memory keeps the
embedder it was built with until the operator moves it."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

from agents.embedders import DEFAULT_EMBEDDER, M2V_MODEL_DIR, ONNX_MODEL_DIR, available, choose, get_embedder
from graphs.memory_search import topic_of


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_default_embedder_is_the_shipped_transformer() -> None:
    assert DEFAULT_EMBEDDER == "minilm-onnx" and "minilm-onnx" in available()
    emb = get_embedder()
    assert (emb.name, emb.dim) == ("all-MiniLM-L6-v2-onnx-int8", 384)
    texts = [
        "invoice for Acme overdue",
        "the bill to Acme is late",
        "colour palette for the website",
        "On the logo: the teal feels too cold, could we try the warmer terracotta?",
        "",
    ]
    bill, late, colour, logo, empty = emb.embed(texts)
    assert all(abs(_dot(v, v) - 1.0) < 1e-4 for v in (bill, late, colour, logo, empty))
    assert _dot(bill, late) > _dot(bill, colour) + 0.3  # synonyms the hashing embedder cannot see
    palette = emb.embed(["what did she say about the brand palette?"])[0]
    assert _dot(palette, logo) > max(_dot(palette, bill), _dot(palette, late))
    # A text's vector doesn't depend on what it was embedded with: indexing, re-embedding and the
    # query agree exactly.
    assert emb.embed([texts[3]])[0] == logo
    assert emb.embed([]) == []
    long = emb.embed(["word " * 2000])[0]  # truncated to the model's 256 tokens, not an error
    assert len(long) == 384


@pytest.mark.slow  # starts a Python process
@pytest.mark.parametrize("name, dim, model_dir", [("minilm-onnx", 384, ONNX_MODEL_DIR), ("m2v", 256, M2V_MODEL_DIR)])
def test_shipped_embedders_need_neither_torch_nor_the_network(name: str, dim: int, model_dir: str) -> None:
    code = (
        "import sys; sys.modules['torch'] = sys.modules['transformers'] = None\n"
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network used')\n"
        "socket.socket.connect = refuse\n"
        "from agents.embedders import get_embedder\n"
        f"print(len(get_embedder({name!r}).embed(['hello'])[0]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(dim)
    assert os.path.isfile(os.path.join(model_dir, "tokenizer.json"))  # shipped inside the package


@pytest.mark.parametrize(
    "configured, stored, chosen",
    [
        ("", None, "minilm-onnx"),  # a new memory gets the default
        ("", "hashing-v1-512", "hashing"),  # an upgraded one keeps what it was built with
        ("", "minilm-m2v-256", "m2v"),
        ("", "some-retired-model", "minilm-onnx"),  # unknown here: the default (sync then asks for reembed)
        ("hashing", "all-MiniLM-L6-v2-onnx-int8", "hashing"),  # the operator's word wins
    ],
)
def test_choose_keeps_the_memorys_embedder_unless_told(configured, stored, chosen) -> None:
    assert choose(configured, stored) == chosen


def test_the_name_a_question_carries_is_not_its_topic() -> None:
    assert topic_of("did Kestrel ask to move the due date?", "Kestrel Labs") == "did ask to move the due date?"
    assert topic_of("what did Jane say about the brand palette", "Jane") == "what did say about the brand palette"
    assert topic_of("why is Bluebird's delivery late?", "Bluebird Coffee") == "why is delivery late?"
    assert topic_of("what did Jane say?", "Jane") == "what did Jane say?"  # nothing else to rank by
    assert topic_of("find INV-0042", None) == "find INV-0042"


def test_m2v_is_shipped_normalised_and_semantic() -> None:
    assert "m2v" in available()
    emb = get_embedder("m2v")
    assert emb.dim == 256
    bill, late, colour = emb.embed(
        ["invoice for Acme overdue", "the bill to Acme is late", "colour palette for the website"]
    )
    assert all(abs(math.sqrt(sum(x * x for x in v)) - 1.0) < 1e-3 for v in (bill, late, colour))
    assert _dot(bill, late) > _dot(bill, colour) + 0.3
    assert emb.embed([]) == []
