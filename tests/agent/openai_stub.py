"""A local OpenAI-compatible chat server for tests: http.server on 127.0.0.1 in a thread.

`answer(model, messages) -> str` decides each reply, so a test can script a model that first
answers badly and then repairs its answer; raising `StubError(status, message)` answers with
that HTTP error instead. Every request body is kept in `requests`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[str, list[dict[str, Any]]], str]


class StubError(Exception):
    """Raised by an answer: the server replies with this HTTP status and an OpenAI error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-request (an LLM call timed out) is not an error worth a
    traceback on stderr, where it lands in whichever test captures stderr at that moment."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class OpenAIStub:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append({"path": self.path, **body})
                if not self.path.endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                try:
                    content = stub.answer(body.get("model", ""), body.get("messages", []))
                except StubError as exc:
                    self._send(exc.status, {"error": {"message": str(exc),
                                                      "type": "invalid_request_error"}})
                    return
                except Exception as exc:  # surfaces as an HTTP 500 to the client
                    self._send(500, {"error": {"message": str(exc)}})
                    return
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{len(stub.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", ""),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> OpenAIStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@contextmanager
def serving(answer: Answer, monkeypatch: Any) -> Iterator[OpenAIStub]:
    """The stub started, and the environment naming it as facetory's LLM endpoint."""
    with OpenAIStub(answer) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        yield stub
