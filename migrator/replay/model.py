"""The shapes a replay run passes between its parts.

A run is a pipeline of plain JSON dicts — corpus → calls → exchanges → records → a verdict per
case → results.jsonl → summary, JUnit and HTML — so every stage can be written to disk as it is,
read back on ``--resume`` or by ``migrator replay merge``, and tested with hand-written values.
The TypedDicts below name those dicts for mypy; nothing converts them into objects.

Arms (Diffy's three-way idea, applied to one request):

* ``P`` — the chat request as the corpus gives it, sent to ``/v1/chat/completions``;
* ``C`` — its translation by the engine, sent to ``/v1/responses``;
* ``S`` — the chat request again: what differs between P and S is the model's own noise, the floor
  against which P-versus-C differences are judged.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

Arm = Literal["P", "S", "C"]
ARMS: tuple[Arm, ...] = ("P", "S", "C")
CHAT_PATH = "/v1/chat/completions"
RESPONSES_PATH = "/v1/responses"
Verdict = Literal["equivalent", "divergent", "error"]
VERDICTS: tuple[Verdict, ...] = ("equivalent", "divergent", "error")


class Case(TypedDict):
    """One corpus entry: a chat request and where it came from (for messages that point at it)."""

    id: str  # the corpus's own id (`id`, Batch `custom_id`, file name) or "line-<n>"
    source: str  # the file it was read from, as given on the command line
    line: int  # 1-based line in a JSONL file; 0 for a file of a folder corpus
    request: dict[str, Any]  # the chat request body


class CorpusProblem(TypedDict):
    """A corpus entry that could not be read: reported by file and line, skipped, never fatal."""

    source: str
    line: int
    path: str  # JSON path inside the line ("$" for the whole line)
    message: str  # what was expected


class Call(TypedDict):
    """One request to send: an arm's body for one sample."""

    case: str  # Case.id
    arm: Arm
    sample: int  # 0 .. repeat-1
    path: str  # CHAT_PATH or RESPONSES_PATH
    body: dict[str, Any]  # exactly what is sent (``stream`` set in it when streaming)


class ErrorFacts(TypedDict):
    """Why an exchange has no usable answer."""

    kind: Literal["api", "timeout", "connection", "protocol"]  # api: an HTTP error answer; protocol: an answer that is not the API's shape
    status: int | None
    type: str | None  # the API error's `type` (invalid_request_error, rate_limit_error…)
    code: str | None
    message: str  # secrets removed


class StreamFacts(TypedDict):
    """What a streamed answer looked like, kept so the report can show envelope conformance."""

    events: int  # data frames read
    event_lines: bool  # any `event:` line
    done: bool  # a `data: [DONE]` frame
    sequence_numbers: bool  # every Responses event had `sequence_number` (False for chat)
    terminal: str | None  # the last event's type (responses) or the last finish_reason (chat)
    rebuilt_matches_terminal: bool | None  # text rebuilt from deltas equals the terminal object's text (None: no terminal object)


class _ExchangeOptional(TypedDict, total=False):
    """Keys an Exchange may lack."""

    timed: bool  # False: no timing was measured (a Batch API answer: total_ms 0 means nothing); absent: measured


class Exchange(_ExchangeOptional):
    """One Call's outcome as the client saw it."""

    arm: Arm
    sample: int
    path: str
    status: int | None  # the final HTTP status; None when no answer came (timeout, connection)
    body: Any  # the JSON answer; for a stream, the final object (Responses: the terminal event's `response`; chat: a chat.completion assembled from the chunks); None on error
    stream: StreamFacts | None
    error: ErrorFacts | None
    ttft_ms: float | None  # first content byte (stream: first text/tool delta; otherwise None)
    total_ms: float
    attempts: int  # 1 + retries
    cached: bool  # taken from the cache, not sent


class ToolCall(TypedDict):
    name: str
    arguments: Any  # parsed JSON; the raw string when it does not parse
    arguments_valid: bool  # parsed, and valid against the tool's parameters schema when the request gave one


class Structured(TypedDict):
    valid: bool  # parses as JSON and (json_schema) validates against the requested schema
    error: str | None


class Usage(TypedDict):
    input: int | None
    output: int | None


class _RecordOptional(TypedDict, total=False):
    """Keys a Record may lack (written by hand in tests, or stored before they existed)."""

    choices: int  # how many choices the answer holds (chat `n` > 1 gives several; a Response one)
    stream: StreamFacts  # a streamed answer's envelope, for the report's conformance counts
    timed: bool  # False: the exchange carried no timing (a Batch API answer); its latencies are not counted
    attempts: int  # the exchange's attempts when it was retried (absent: one attempt)
    error_message: str  # why no usable answer came, as the server or the client said it (ErrorFacts.message: redacted, shortened)


class Record(_RecordOptional):
    """One Exchange reduced to what both endpoints can be compared on (normalize.py)."""

    ok: bool  # an answer the API's shape, status 2xx
    status: int | None
    error_type: str | None  # ErrorFacts.type or kind when not ok
    finish: str | None  # chat's names: stop | length | tool_calls | content_filter (responses mapped through mappings/)
    text: str
    refusal: str | None
    tool_calls: list[ToolCall]
    structured: Structured | None  # None when the request asked for no structured output
    usage: Usage
    model: str | None  # the model that answered, date suffix masked (gpt-4o-2024-08-06 → gpt-4o)
    ttft_ms: float | None
    total_ms: float


class Loss(TypedDict):
    path: str
    field: str
    kind: str
    reason: str


class FieldDiff(TypedDict):
    """One compared field of a case that differs between P and C beyond the noise."""

    field: str  # status | error | finish | text | refusal | tool_calls | structured | usage.input | usage.output | choices
    detail: str  # a sentence: "similarity 0.41, noise floor 0.93 (P vs S)"
    P: Any  # short values, as shown side by side
    C: Any
    S: Any
    explained_by: list[Loss]  # the translation's losses that explain this difference; [] = unexplained


class Judgement(TypedDict):
    """What judge.py decides for one case: the parts of a CaseResult that come from comparing its arms."""

    verdict: Verdict
    reason: str
    fields: list[FieldDiff]
    noise: list[str]
    scores: dict[str, list[float]]


class CaseResult(TypedDict):
    """One line of DIR/results.jsonl: a case's verdict and everything the report shows about it."""

    id: str
    key: str  # content address of (request, run settings): what --resume and the cache skip on
    source: str
    line: int
    verdict: Verdict
    reason: str  # one sentence: why this verdict ("differs because $.stop was dropped")
    fields: list[FieldDiff]  # P≠C beyond the noise (divergent), or the fields that failed (error)
    noise: list[str]  # fields where P and S already differ (the model's own noise)
    losses: list[Loss]  # what the engine reported translating P to C
    order: list[Arm]  # the order the arms were sent in
    request: dict[str, Any]  # the chat request (P and S)
    translated: dict[str, Any] | None  # the responses request (C); None when translation failed
    records: dict[str, list[Record]]  # arm → one Record per sample
    scores: dict[str, list[float]]  # "PC" / "PS": text similarity per pair of samples
