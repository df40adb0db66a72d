"""A compact map from strings to integers, so "seen before?" stays small on a million-line corpus.

Reading a corpus, a results file or a set of shards keeps one fact per entry (an id seen, the
offset of a key's last line). A dict of str costs about 150 bytes an entry with the strings; this
table keeps a 64-bit digest (and, when asked, a 64-bit value) in flat arrays, 8 or 16 bytes a slot
at a load between one quarter and one half: 16 to 64 bytes an entry. Two different strings share a digest with odds of about 1 in 10^7
for a billion pairs (a million entries); the callers accept that, and say so where it matters.
"""

from __future__ import annotations

from array import array

_MASK = (1 << 64) - 1


def digest(text: str) -> int:
    """A 64-bit digest of ``text`` (never 0, which marks an empty slot).

    Python's own string hash (SipHash, 64 bits): a table lives within one process, so the hash
    need not be the same in the next one, and it costs a tenth of a cryptographic digest.
    """
    return hash(text) & _MASK or 1


class DigestTable:
    """str → int by digest, open addressing with linear probing."""

    __slots__ = ("_keys", "_mask", "_size", "_values")

    def __init__(self, capacity: int = 1024, values: bool = True) -> None:
        slots = 1 << max(4, (max(capacity, 1) * 2 - 1).bit_length())
        self._keys = array("Q", [0]) * slots
        self._values = array("q", [0]) * slots if values else None
        self._mask = slots - 1
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def get(self, text: str) -> int | None:
        h = digest(text)
        keys, mask = self._keys, self._mask
        i = h & mask
        while True:
            k = keys[i]
            if k == h:
                return self._values[i] if self._values is not None else 0
            if k == 0:
                return None
            i = (i + 1) & mask

    def put(self, text: str, value: int) -> bool:
        """Set ``text`` to ``value``; True when it was not there before."""
        return self._put(digest(text), value)

    def _put(self, h: int, value: int) -> bool:
        keys, values, mask = self._keys, self._values, self._mask
        i = h & mask
        while True:
            k = keys[i]
            if k == h:
                if values is not None:
                    values[i] = value
                return False
            if k == 0:
                keys[i] = h
                if values is not None:
                    values[i] = value
                self._size += 1
                if self._size * 2 > mask:
                    self._grow()
                return True
            i = (i + 1) & mask

    def _grow(self) -> None:
        keys, values = self._keys, self._values
        slots = (self._mask + 1) * 2
        self._keys = array("Q", [0]) * slots
        self._values = array("q", [0]) * slots if values is not None else None
        self._mask = slots - 1
        self._size = 0
        for i, k in enumerate(keys):
            if k:
                self._put(k, values[i] if values is not None else 0)
