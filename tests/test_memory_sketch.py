"""The audit's MinHash sketches: the LSH bands datasketch would choose, the same sketch in every
process (they are stored), and an estimate that follows the exact similarity."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from store.memory_sketch import BANDS, PERMUTATIONS, ROWS, THRESHOLD, jaccard, shingle_hashes, sketch

TEXT = "Hi Ana, could you move the launch to December 8? The extra round is fine. Jane"


def test_bands_are_the_ones_datasketch_chooses():
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=PERMUTATIONS)
    assert (lsh.b, lsh.r) == (BANDS, ROWS)


def test_a_sketch_is_the_same_in_another_process():
    code = f"from store.memory_sketch import shingle_hashes, sketch; print(sketch(shingle_hashes({TEXT!r})).hex())"
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == sketch(shingle_hashes(TEXT)).hex()


def test_the_sketch_estimate_follows_the_exact_similarity():
    near = TEXT.replace("Jane", "Jane (sent from my phone)")
    far = "Please find attached the invoice for the brand workshop in October, thanks a lot"
    a, b, c = (shingle_hashes(t) for t in (TEXT, near, far))
    assert jaccard(a, a) == 1.0 and 0.7 < jaccard(a, b) < 1.0 and jaccard(a, c) == 0.0

    def estimate(x: bytes, y: bytes) -> float:
        return float(np.mean(np.frombuffer(sketch(x), "<u4") == np.frombuffer(sketch(y), "<u4")))

    assert estimate(a, a) == 1.0 and abs(estimate(a, b) - jaccard(a, b)) < 0.2 and estimate(a, c) < 0.1
