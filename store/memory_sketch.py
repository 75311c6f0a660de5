"""MinHash sketches of memory texts for the recall audit's near-duplicate search.

A text's shingles are its word 3-shingles, kept as their sorted CRC-32 hashes; its sketch is
the 64 minimum hashes of those under fixed permutations. Both are computed once per text (the
audit stores them in ``memory_sketches`` with a digest of the text they were made from) and
compared by LSH banding: two items land in the same bucket of some band when they are about as
alike as ``THRESHOLD`` or more; only such pairs are compared exactly. CRC-32, not Python's
``hash``: stored values must agree across processes. Plain numpy: importing datasketch pulls in
SciPy (4 s of a cold digest) for the band parameters alone, which are constants here.
"""

from __future__ import annotations

import hashlib
import re
import zlib

import numpy as np
from numpy.typing import NDArray

PERMUTATIONS = 64
THRESHOLD = 0.6  # LSH proposes pairs about this alike; the audit then applies its exact bar (0.9)
# datasketch's MinHashLSH(threshold=0.6, num_perm=64) chooses these (a test keeps them equal):
# 10 bands of 6 rows, tuned so pairs at the threshold are rarely missed.
BANDS, ROWS = 10, 6
_PRIME = np.uint64((1 << 61) - 1)
_MAX_HASH = np.uint64((1 << 32) - 1)
# Fixed permutations (seed 1): every process makes the same sketch of the same text.
_rng = np.random.RandomState(1)
_A = _rng.randint(1, int(_PRIME), size=PERMUTATIONS, dtype=np.uint64)
_B = _rng.randint(0, int(_PRIME), size=PERMUTATIONS, dtype=np.uint64)
_WORD = re.compile(r"\w+")


def shingles(text: str) -> set[str]:
    """Word 3-shingles of the lowercased text (one shingle for texts of up to three words)."""
    words = _WORD.findall(text.lower())
    return {" ".join(words[i : i + 3]) for i in range(max(len(words) - 2, 1))}


def digest(text: str) -> str:
    """What stored shingles and sketch were made from: a changed text gets new ones."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def shingle_hashes(text: str) -> bytes:
    """The text's shingles as sorted distinct little-endian uint32 CRC-32 values."""
    return np.unique(np.fromiter((zlib.crc32(s.encode()) for s in shingles(text)), dtype="<u4")).tobytes()


def sketch(hashes: bytes) -> bytes:
    """The MinHash signature of stored shingle hashes: ``PERMUTATIONS`` little-endian uint32."""
    values = np.frombuffer(hashes, dtype="<u4").astype(np.uint64)
    # the affine map wraps modulo 2^64 before the prime, as datasketch's does
    permuted = ((np.outer(values, _A) + _B) % _PRIME) & _MAX_HASH
    return permuted.min(axis=0).astype("<u4").tobytes()


def jaccard(a: bytes, b: bytes) -> float:
    """Exact Jaccard similarity of two texts' stored shingle hashes."""
    sa, sb = np.frombuffer(a, dtype="<u4"), np.frombuffer(b, dtype="<u4")
    if not len(sa) or not len(sb):
        return 0.0
    common = len(np.intersect1d(sa, sb, assume_unique=True))
    return common / (len(sa) + len(sb) - common)


def band_buckets(groups: NDArray[np.int64], sketches: NDArray[np.uint32]) -> NDArray[np.int64]:
    """Each row's bucket number per band (shape rows × BANDS): rows share a bucket when their
    group and that band of their sketch are equal. A sort per band, so n log n, not n²."""
    out = np.empty((len(groups), BANDS), dtype=np.int64)
    for band in range(BANDS):
        cols = sketches[:, band * ROWS : (band + 1) * ROWS].astype(np.int64)
        keys = np.ascontiguousarray(np.column_stack([groups, cols]))
        rows = keys.view(np.dtype((np.void, keys.dtype.itemsize * keys.shape[1]))).ravel()
        out[:, band] = np.unique(rows, return_inverse=True)[1].reshape(-1)
    return out
