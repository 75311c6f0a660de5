"""The m2v embedder: the static model distilled from all-MiniLM-L6-v2 ships with coo, loads offline
and runs without torch."""

from __future__ import annotations

import math
import subprocess
import sys

from agents.embedders import M2V_MODEL_DIR, available, get_embedder


def test_m2v_is_shipped_normalised_and_semantic() -> None:
    assert "m2v" in available()
    emb = get_embedder("m2v")
    assert emb.dim == 256
    bill, late, colour = emb.embed(["invoice for Acme overdue", "the bill to Acme is late",
                                    "colour palette for the website"])
    assert all(abs(math.sqrt(sum(x * x for x in v)) - 1.0) < 1e-3 for v in (bill, late, colour))
    dot = lambda a, b: sum(x * y for x, y in zip(a, b))  # noqa: E731
    assert dot(bill, late) > dot(bill, colour) + 0.3  # synonyms the hashing embedder cannot see
    assert emb.embed([]) == []


def test_m2v_needs_neither_torch_nor_the_network() -> None:
    code = ("import sys; sys.modules['torch'] = sys.modules['transformers'] = None\n"
            "import socket\n"
            "def refuse(*a, **k): raise OSError('network used')\n"
            "socket.socket.connect = refuse\n"
            "from agents.embedders import get_embedder\n"
            "print(len(get_embedder('m2v').embed(['hello'])[0]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "256"
    assert M2V_MODEL_DIR.endswith("agents/models/minilm-m2v")
