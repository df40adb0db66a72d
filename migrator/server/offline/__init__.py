"""The offline model: a deterministic stand-in for OpenAI behind ``migrator serve``.

Without an upstream the server still has to answer both endpoints, and tests
of code that talks to it need answers that are *stable* (same request, same
bytes) yet *sensitive* (another history, another answer), that exercise the
hard parts of the API (tool calls, structured output, truncation, refusals,
streaming) and that the official SDK accepts.  Nothing here is learned: the
answer is a template filled from the conversation and from a hash of it.

The model only reads Responses API request bodies; the chat endpoint
translates its requests to this form and the results back, so equivalent
requests on either endpoint get the same content.

Documented behaviour (the server's docs point here):

* Text: ``Offline answer to "<last user message>" (turn <n>): <three words>.``
  where the words are picked by a SHA-256 of the normalized conversation
  (:func:`normalize_conversation`).  After tool outputs the answer quotes
  them: ``... (turn 2) based on get_weather: {"temp_c": 18}; <words>.``
* Tool calls: when function tools are offered and the last user message shares
  a content word with a tool's name or description ("What is the weather in
  Paris?" calls ``get_weather``; see :func:`.model._content_words`) or names it
  (case-insensitive; ``_``, ``-`` and spaces are interchangeable), or
  ``tool_choice`` is ``"required"`` (the first tool), names a function, or is
  ``allowed_tools`` in ``required`` mode, and the conversation does not end
  with tool outputs.  Several such tools give parallel calls unless
  ``parallel_tool_calls`` is false.  Arguments are built from the tool's JSON
  schema (:class:`.model._SchemaFiller`): ``prop: value`` in the message, else the
  user's words (proper nouns first), numbers from the message when in range.
* Structured output: ``text.format`` ``json_schema`` gives JSON valid against
  the schema, ``json_object`` a JSON object.
* Refusal: a last user message containing :data:`REFUSAL_TRIGGER` gets a
  ``refusal`` part saying :data:`REFUSAL_TEXT`.
* Tokens: :func:`count_tokens` (regex words and single punctuation marks).
  ``max_output_tokens`` truncates at that many tokens, status ``incomplete``.

Four modules, one job each: ``checks`` refuses what the API refuses (before any
answer is made), ``conversation`` reduces a request to the content the answer
depends on, ``model`` decides the answer, and ``response`` writes it as a
Response (or, through ``streams/finished.py``, as the events of its stream).
"""

from __future__ import annotations

from .checks import OfflineRequestError, validate
from .conversation import count_tokens, normalize_conversation
from .model import REFUSAL_TEXT, REFUSAL_TRIGGER
from .response import DEFAULT_CREATED_AT, MODEL_ID, generate, generate_events

__all__ = [
    "DEFAULT_CREATED_AT",
    "MODEL_ID",
    "REFUSAL_TEXT",
    "REFUSAL_TRIGGER",
    "OfflineRequestError",
    "count_tokens",
    "generate",
    "generate_events",
    "normalize_conversation",
    "validate",
]
