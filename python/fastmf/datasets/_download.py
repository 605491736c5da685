"""Downloading a release: resumable HTTP transfer, the published md5, extraction."""
from __future__ import annotations

import hashlib
import http.client
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path
from urllib.error import HTTPError
from typing import TYPE_CHECKING, overload
from urllib.request import Request, urlopen

from ..exceptions import DataNotFoundError

if TYPE_CHECKING:
    from http.client import HTTPResponse
    from typing import Literal

_TIMEOUT = 30.0        # seconds allowed to connect, and between two received blocks
_BLOCK = 1 << 16


def _fetch(url: str, home: Path, folder: str, progress: bool) -> None:
    """Download ``url`` into ``home``, check its md5, extract it, delete the archive."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataNotFoundError(f"cannot create the data home {home} ({err.strerror}); pass "
                                f"data_home or set FASTMF_DATA to a writable folder") from None
    expected = _published_md5(url, home, folder)
    part = home / (url.rsplit("/", 1)[-1] + ".part")
    _download(url, part, progress, home, folder)
    actual = _md5(part)
    if actual != expected:
        part.unlink()
        raise DataNotFoundError(
            f"the file downloaded from {url} is corrupt: its md5 is {actual}, but {url}.md5 "
            f"says {expected}. It was deleted; call load_movielens again to download it afresh")
    try:
        _extract(part, url, home, folder)
    finally:
        part.unlink()


@overload
def _open(url: str, home: Path, folder: str, start: Literal[0] = 0) -> HTTPResponse: ...


@overload
def _open(url: str, home: Path, folder: str, start: int) -> HTTPResponse | None: ...


def _open(url: str, home: Path, folder: str, start: int = 0) -> HTTPResponse | None:
    """An open HTTP response, or None when a range starting at ``start`` is past the end."""
    request = Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    try:
        return urlopen(request, timeout=_TIMEOUT)
    except HTTPError as err:
        err.close()
        if err.code == 416 and start:
            return None
        reason = f"HTTP {err.code} {err.reason}"
    except (OSError, http.client.HTTPException) as err:
        reason = str(getattr(err, "reason", err))
    raise DataNotFoundError(
        f"could not download {url} ({reason}). Check the network connection and base_url, "
        f"or download {url.removesuffix('.md5')} yourself and extract it into {home} so that "
        f"{home / folder} exists (data_home or FASTMF_DATA name the folder to look in)")


def _published_md5(url: str, home: Path, folder: str) -> str:
    with _open(url + ".md5", home, folder) as response:
        text = response.read(4096).decode("ascii", "replace")
    found = re.search(r"\b[0-9a-fA-F]{32}\b", text)
    if found is None:
        raise DataNotFoundError(f"{url}.md5 holds no md5 checksum, found {text[:80]!r}")
    return found.group().lower()


def _download(url: str, part: Path, progress: bool, home: Path, folder: str) -> None:
    """Download ``url`` into ``part``, resuming from what ``part`` already holds."""
    from tqdm.auto import tqdm

    start = part.stat().st_size if part.exists() else 0
    response = _open(url, home, folder, start)
    if response is None:            # the partial file is already complete
        return
    with response:
        if response.status != 206:  # the server ignored the range: start over
            start = 0
        length = response.headers.get("Content-Length")
        total = start + int(length) if length else None
        received, reason = start, None
        with open(part, "ab" if start else "wb") as out, tqdm(
                total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
                desc=part.name[:-len(".part")], file=sys.stderr, disable=not progress) as bar:
            try:
                for block in iter(lambda: response.read(_BLOCK), b""):
                    out.write(block)
                    bar.update(len(block))
                    received += len(block)
            except (OSError, http.client.HTTPException) as err:
                reason = str(err) or type(err).__name__
    if reason is None and total is not None and received < total:
        reason = "the connection closed early"
    if reason is not None:
        of_total = "" if total is None else f" of {total}"
        raise DataNotFoundError(
            f"the download of {url} stopped after {received}{of_total} bytes ({reason}); "
            f"call load_movielens again to resume it from {part}")


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)   # a transfer check, not security
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _extract(archive: Path, url: str, home: Path, folder: str) -> None:
    """Extract the archive's ``folder`` into ``home/folder``, file by file."""
    try:
        with zipfile.ZipFile(archive) as zipped, tempfile.TemporaryDirectory(dir=home) as tmp:
            zipped.extractall(tmp)
            source = Path(tmp) / folder
            if not source.is_dir():
                raise DataNotFoundError(f"{url} has no {folder}/ folder; check base_url")
            (home / folder).mkdir(exist_ok=True)
            for entry in source.iterdir():
                os.replace(entry, home / folder / entry.name)
    except zipfile.BadZipFile as err:
        raise DataNotFoundError(f"{url} is not a zip archive ({err}); check base_url") from None
