"""A small Confluence on loopback: the content REST endpoints a page publisher uses, over real HTTP.

Pages by space and title, versions that must go up by one, attachments added or replaced by name;
requests without the expected bearer token get 401.
"""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class LocalConfluence:
    """``with LocalConfluence(token) as c: c.url`` — pages in ``c.pages``, attachments in ``c.attachments``."""

    def __init__(self, token: str):
        self.token = token
        self.pages: dict[str, dict] = {}
        self.attachments: dict[str, dict[str, bytes]] = {}
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _route(self, method: str) -> None:
                url = urlparse(self.path)
                server.requests.append((method, url.path))
                if self.headers.get("Authorization") != f"Bearer {server.token}":
                    return self._send(401, {"message": "unauthorized"})
                parts = url.path.strip("/").split("/")[3:]  # after rest/api/content
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if method == "GET" and not parts:
                    found = [p for p in server.pages.values()
                             if p["space"]["key"] == query.get("spaceKey") and p["title"] == query.get("title")]
                    return self._send(200, {"results": found, "size": len(found)})
                if method == "POST" and not parts:
                    data = json.loads(self._body())
                    page_id = str(1000 + len(server.pages))
                    server.pages[page_id] = {**data, "id": page_id, "version": {"number": 1}}
                    server.attachments[page_id] = {}
                    return self._send(200, server.pages[page_id])
                page_id = parts[0]
                if page_id not in server.pages:
                    return self._send(404, {"message": "no such page"})
                if method == "PUT" and len(parts) == 1:
                    data = json.loads(self._body())
                    if data["version"]["number"] != server.pages[page_id]["version"]["number"] + 1:
                        return self._send(409, {"message": "version must go up by one"})
                    server.pages[page_id] = {**data, "id": page_id}
                    return self._send(200, server.pages[page_id])
                if parts[1:3] == ["child", "attachment"]:
                    files = server.attachments[page_id]
                    if method == "GET":
                        name = query.get("filename")
                        found = [{"id": f"{page_id}:{n}", "title": n} for n in files if n == name]
                        return self._send(200, {"results": found})
                    if method == "POST":
                        if self.headers.get("X-Atlassian-Token") != "no-check":
                            return self._send(403, {"message": "XSRF check failed"})
                        name, content = self._file()
                        files[name] = content
                        return self._send(200, {"results": [{"id": f"{page_id}:{name}", "title": name}]})
                return self._send(404, {"message": "not found"})

            def _file(self) -> tuple[str, bytes]:
                raw = b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + self._body()
                message = BytesParser(policy=HTTP).parsebytes(raw)
                part = next(iter(message.iter_parts()))
                return part.get_filename(), part.get_payload(decode=True)

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_PUT(self):
                self._route("PUT")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> LocalConfluence:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
