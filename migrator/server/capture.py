"""``migrator serve --capture``: sampled chat requests appended as replay corpus lines.

A team verifies a switch on the traffic it really has: the bridge already sees every chat
request, so it can keep a sample of them in the form ``migrator replay`` reads (one
``{"id", "request"}`` object per line) while serving them.

What a line holds, and what it never holds:

* ``request`` is the JSON body as the client sent it, parsed (so a line is one JSON object
  whatever the client's whitespace), with secrets *inside the body* replaced by
  :data:`REDACTED`; headers are never written, ``Authorization`` included. Secrets are found by
  their shape (``migrator/secrets.py``, shared with the replay harness: OpenAI-style ``sk-…`` keys, ``Bearer …`` tokens, AWS, GitHub,
  Slack and Google key prefixes) in every string, and by their member name (``SECRET_FIELDS`` there,
  such as ``api_key`` or ``password`` in ``metadata``) when the value is a string. A key
  named ``password`` whose value is an object (a tool's parameter schema) is kept: it is a
  schema, not a secret, and dropping it would change the request replayed. ``user`` is an
  end-user id the API itself asks for, not a credential, and is kept. The marker stays visible
  in the line, so a redaction is never silent. What the shapes cannot see (a password in the
  free text of a message, or inside a tool call's ``arguments`` string, which are JSON text) is
  not found: the capture file holds prompts and deserves the care of any log of them (it is
  created readable by its owner only).
* ``id`` is the request's ``x-request-id`` (the id of its access-log line) when the server made
  it; a client's own ``x-request-id`` may repeat (retries), so it gets a random suffix.

Sampling is decided by a hash of the request id, not by a random draw: the same client-supplied
``x-request-id`` (a retried request) is always sampled the same way, and a rate of 0.1 keeps
about one request in ten. Rate 1 keeps all and 0 none, without hashing.

Requests are kept once their body parses as a JSON object, before the endpoint checks its
parameters: a request the API refuses is traffic too, and the replay shows how both endpoints
refuse it. Each line is written with one ``os.write`` on a descriptor opened with
``O_APPEND``, so concurrent requests, and several servers sharing one file, never interleave
their lines (POSIX appends each write whole on a local file system).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
from typing import Any

from ..secrets import MASK, redact_value

REDACTED = MASK
redact = redact_value
_HASH_RANGE = 1 << 64
_suffixes = random.Random()  # an id suffix guards nothing: no system call for each


def sampled(request_id: str, rate: float) -> bool:
    """Whether the request with this id is kept at ``rate`` (deterministic per id)."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.blake2b(request_id.encode("utf-8", "replace"), digest_size=8).digest()
    return int.from_bytes(digest, "big") < rate * _HASH_RANGE


class Capture:
    """An append-only capture file; opening it fails at startup, not at the first request."""

    def __init__(self, path: str, rate: float = 1.0) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"the capture rate must be between 0 and 1, not {rate}")
        self.path = path
        self.rate = rate
        self.lines = 0
        self.failed = 0
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)

    def offer(self, body: dict[str, Any], request_id: str, *, minted: bool) -> bool:
        """Append ``body`` when its request is sampled; True when a line was written.

        ``minted``: the server made ``request_id`` (unique), rather than the client sending it.
        """
        if self._fd is None or not sampled(request_id, self.rate):
            return False
        case_id = request_id if minted else f"{request_id}.{_suffixes.getrandbits(32):08x}"
        line = json.dumps({"id": case_id, "request": redact(body)}, ensure_ascii=False, separators=(",", ":"))
        data = (line + "\n").encode("utf-8")
        try:
            written = os.write(self._fd, data)
            while written < len(data):  # only on a full disk or a signal: the rest, so the line at least ends
                written += os.write(self._fd, data[written:])
        except OSError as exc:  # the request is still answered; the miss is said where the operator looks
            self.failed += 1
            sys.stderr.write(f"migrator serve: --capture: cannot append to {self.path}: {exc.strerror or exc}; "
                             f"request {request_id} was not captured\n")
            return False
        self.lines += 1
        return True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
