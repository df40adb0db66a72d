"""How alike two answers' texts are: a score in [0, 1], 1.0 exactly when they are equal after
whitespace is normalised.

The score only has to rank pairs against each other (P–C against P–S, the model's own spread), not
to measure meaning, so it is a cheap lexical one from the standard library: difflib's ratio over the
two word lists (2·matched words / all words, close to ROUGE-L's F over words), which rewards the same
words in the same order and is blind to reflowed whitespace. Embeddings would judge paraphrases
better but cost a model and milliseconds per pair; the harness compares two to fifty pairs per case
at hundreds of cases a second.

difflib's matcher grows with the product of the lengths on unlike texts, so past ``LONG`` words a
side is compared as a bag of words (the multiset overlap, an F1 over words): linear, order-blind,
and for long answers the vocabulary already tells apart an unrelated answer from a re-sampled one.
"""

from __future__ import annotations

from collections import Counter
from difflib import SequenceMatcher

#: Word count past which the order-aware ratio gives way to the bag-of-words overlap.
LONG = 400
#: The largest score two unequal texts get: 1.0 is kept for equal ones (a bag of words cannot tell a
#: reordering from an equal text).
_BELOW_ONE = 0.9999


def similarity(a: str, b: str) -> float:
    """1.0 when the texts are equal after whitespace normalisation, 0.0 when they share no word."""
    wa, wb = a.split(), b.split()
    if wa == wb:
        return 1.0
    if not wa or not wb:
        return 0.0
    if len(wa) > LONG or len(wb) > LONG:
        common = sum((Counter(wa) & Counter(wb)).values())
        score = 2.0 * common / (len(wa) + len(wb))
    else:
        score = SequenceMatcher(None, wa, wb, autojunk=False).ratio()
    return min(score, _BELOW_ONE)
