"""A fake OpenAI-compatible chat-completions server for tests and benchmarks.

Takes HTTP requests on a loopback port; gives deterministic replies: they depend only
on the request's model, messages, temperature and seed (the "sample" value), hashed
with sha256 and fed to a small counter-based generator. Raises nothing at import time;
see ``server`` for what starting one raises.

Endpoints: ``POST /v1/chat/completions`` (also ``/chat/completions``),
``GET /v1/models``, ``GET /health``, ``GET /stats`` and ``POST /reset``; the Batch
API's ``/v1/files`` and ``/v1/batches`` (``batches``: lines answered like chat
requests after a configurable delay, with partial line failures, expiry, cancellation
and a count of batch creations in ``stats()``).

Directives in the last user message drive the server (``[[name: argument]]``, the
argument ends at the first ``]]``):

- ``[[reply: TEXT]]``: the reply is exactly TEXT (one space after the colon is dropped).
- ``[[replies: A ||| B ...]]``: a conversation's replies in turn: A while the messages
  hold no assistant reply, B once they hold one, and so on (the last one repeats). It
  is found in any user message, so a follow-up turn (a schema retry) keeps it.
- ``[[fault:KIND key=value ...]]``: fault injection. KIND is an HTTP error status
  (``429``, ``500``, ``503``, ``400``, ``401``, any other 4xx/5xx) or ``hang``
  (sleep ``seconds``, default 3600, then answer), ``truncate`` (200 with half a JSON
  body), ``malformed`` (200 without ``choices``), ``empty`` (200 with content ""),
  ``content_filter`` (200 with no content and finish reason ``content_filter``),
  ``disconnect`` (connection closed without a response). ``times=N`` makes only the
  first N attempts of the same content (model + messages) fail; ``retry_after=S`` sends
  ``Retry-After: S`` (verbatim) with an error status. With several fault directives the
  first one whose ``times`` is not used up fires.
- ``[[words: N]]``: N words of text; ``[[list: N]]``: a numbered list of N distinct lines;
  ``[[score: N]]``: with a JSON response format, integer/number properties named
  ``score`` take N.

With ``response_format`` ``json_schema`` the reply is a JSON document valid against the
schema (objects, arrays, scalars with bounds, enum/const, anyOf/oneOf first branch,
allOf, local ``$ref``); with ``json_object`` it is a small object. Otherwise it is 8-40
words from a fixed vocabulary, cut at ``max_tokens`` words (finish_reason "length").

Server-side behaviour: optional API key (401 without ``Authorization: Bearer KEY``),
optional requests-per-minute limit (sliding 60 s window, 429 with ``Retry-After``), a
latency of ``latency + uniform(0, jitter)`` seconds per chat request, thread-safe
counters (``stats()``), the messages of the last 1,000 requests (``conversations()``).

The package, by concern: ``words`` (the deterministic generator and text),
``schema_replies`` (JSON-schema-shaped values), ``batches`` (files and batches),
``faults`` (fault specs, attempt counters, the rpm window), ``replies`` (directives and
the completion payload), ``app`` (the aiohttp application), ``server``
(``FakeOpenAIServer``, a background thread), ``cli`` (the command line). Use it from tests
(``with FakeOpenAIServer() as srv: ... srv.base_url``) or as a subprocess::

    python -m synthdsl.testing.fake_openai --port 0 --latency 0.2

which prints ``READY http://127.0.0.1:PORT/v1`` once listening and runs until
SIGTERM/SIGINT. ``synthdsl.testing.fake_client.FakeClient`` gives the same replies
in-process, without HTTP.
"""

from __future__ import annotations

from synthdsl.testing.fake_openai.cli import main
from synthdsl.testing.fake_openai.server import FakeOpenAIServer

__all__ = ["FakeOpenAIServer", "main"]
