"""A small HTTP server on 127.0.0.1 that serves files from memory, for download tests.

It honours ``Range: bytes=N-`` requests (206 Partial Content, or 416 past the end) and
records every request, so a test can check what a client asked for and what it was sent.
Two switches simulate unkind servers: ``honour_range = False`` answers every request in
full with 200, and ``cut[name] = n`` sends only the first ``n`` bytes of the next body
served for ``name`` (with the full Content-Length) and then closes the connection.
"""
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer


@dataclass
class Request:
    path: str
    range: str        # the Range header, or None
    status: int
    sent: int         # body bytes written


class FileServer(HTTPServer):
    """Serve ``files`` (a dict of name -> bytes) at ``url``; use it as a context manager."""

    def __init__(self, files):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = dict(files)
        self.requests = []
        self.honour_range = True
        self.cut = {}
        self._thread = threading.Thread(target=self.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_port}/"

    def requests_for(self, name):
        return [r for r in self.requests if r.path == "/" + name]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.shutdown()
        self.server_close()
        self._thread.join()


class _Handler(BaseHTTPRequestHandler):
    server: FileServer

    def do_GET(self):
        body = self.server.files.get(self.path.lstrip("/"))
        asked = self.headers.get("Range")
        if body is None:
            return self._reply(asked, 404, b"not found")
        match = re.fullmatch(r"bytes=(\d+)-", asked or "")
        if match is None or not self.server.honour_range:
            return self._reply(asked, 200, body)
        start = int(match.group(1))
        if start >= len(body):
            return self._reply(asked, 416, b"", {"Content-Range": f"bytes */{len(body)}"})
        return self._reply(asked, 206, body[start:],
                           {"Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"})

    def _reply(self, asked, status, payload, headers=()):
        self.send_response(status)
        for name, value in dict(headers).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        cut = self.server.cut.pop(self.path.lstrip("/"), None)
        if cut is not None:
            payload = payload[:cut]
        self.server.requests.append(Request(self.path, asked, status, len(payload)))
        self.wfile.write(payload)

    def log_message(self, format, *args):
        """Keep test output clean: no access log on stderr."""
