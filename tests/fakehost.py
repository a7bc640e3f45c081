"""A loopback stand-in for a Git host: bare repositories served over git's smart HTTP
(`git http-backend`, fetch and push), and the one REST call the action makes, the GitHub
`workflow_dispatch` API, recorded instead of run.

Real runner software (act, gitlab-ci-local) and actions/checkout need a server to clone from
and push to; a `file://` remote would skip the HTTP auth header the action sets.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_DISPATCH = re.compile(r"^/api/v3/repos/([^/]+/[^/]+)/actions/workflows/([^/]+)/dispatches$")
_SERVICE = re.compile(r"(git-upload-pack|git-receive-pack)")


@dataclass(frozen=True)
class GitRequest:
    """One smart-HTTP request: which repository, fetch (`git-upload-pack`) or push
    (`git-receive-pack`), and the Authorization header it came with, so a test can tell
    which credentials a push used apart from those of the checkout's fetches."""

    project: str
    service: str
    authorization: str


@dataclass
class FakeHost:
    """Bare repositories under `root` at `{url}/{owner}/{name}[.git]`."""

    root: Path
    url: str = ""
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    requests: list[GitRequest] = field(default_factory=list)  # every one, in order

    def bare(self, project: str) -> Path:
        """The bare repository for `owner/name`, created (push enabled) if missing."""
        path = self.root / f"{project}.git"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
            subprocess.run(
                ["git", "-C", str(path), "config", "http.receivepack", "true"], check=True
            )
        return path

    def clone_url(self, project: str) -> str:
        return f"{self.url}/{project}.git"


def push_authorizations(requests: list[GitRequest]) -> dict[str, set[str]]:
    """The Authorization headers of the pushes (`git-receive-pack`) among `requests`, by
    project, each with its scheme lowercased (HTTP schemes ignore case); "" for none. The host
    takes anonymous pushes, so this is what tells a push with the token from one without."""
    pushes: dict[str, set[str]] = {}
    for request in requests:
        if request.service == "git-receive-pack":
            scheme, _, credentials = request.authorization.partition(" ")
            header = f"{scheme.lower()} {credentials}" if credentials else request.authorization
            pushes.setdefault(request.project, set()).add(header)
    return pushes


def _handler(host: FakeHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            self._git()

        def do_POST(self) -> None:
            match = _DISPATCH.match(urlsplit(self.path).path)
            if match:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                host.dispatches.append(
                    {
                        "repository": match.group(1),
                        "workflow": match.group(2),
                        "authorization": self.headers.get("Authorization", ""),
                        "body": json.loads(body or b"{}"),
                    }
                )
                self.send_response(204)
                self.end_headers()
                return
            self._git()

        def _git(self) -> None:
            parts = urlsplit(self.path)
            # /owner/name[.git]/info/refs -> /owner/name.git/info/refs
            path = re.sub(
                r"^/([^/]+/[^/]+?)(?:\.git)?/", lambda m: f"/{m.group(1)}.git/", parts.path
            )
            authorization = self.headers.get("Authorization", "")
            service = _SERVICE.search(f"{parts.path}?{parts.query}")
            project = re.match(r"^/([^/]+/[^/]+?)\.git/", path)
            host.requests.append(
                GitRequest(
                    project.group(1) if project else "",
                    service.group(1) if service else "",
                    authorization,
                )
            )
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            env = {
                "GIT_PROJECT_ROOT": str(host.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": path,
                "QUERY_STRING": parts.query,
                "REQUEST_METHOD": self.command,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "REMOTE_ADDR": "127.0.0.1",
                "PATH": "/usr/bin:/bin:/usr/local/bin",
            }
            result = subprocess.run(
                ["git", "http-backend"], input=body, env=env, capture_output=True, timeout=120
            )
            head, _, payload = result.stdout.partition(b"\r\n\r\n")
            status, headers = 200, []
            for line in head.decode("latin-1").split("\r\n"):
                key, _, value = line.partition(":")
                if key.lower() == "status":
                    status = int(value.split()[0])
                elif key:
                    headers.append((key, value.strip()))
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(root: Path) -> Iterator[FakeHost]:
    """Serve `root` on 127.0.0.1 on a free port until the block ends."""
    host = FakeHost(root)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(host))
    host.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
