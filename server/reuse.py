"""A running `scrutiny serve` announces itself in the index folder, so `scrutiny ask` can send the question
to it and skip loading the model (a cold start takes seconds; a request to a warm server, milliseconds).

Only the standard library is imported here: this runs before anything heavy is loaded.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import os
from pathlib import Path

SERVER_FILE = "server.json"
CONNECT_SECONDS = 1.0  # a server on loopback accepts at once; longer means it is not there
ANSWER_SECONDS = 60.0
LOOPBACK = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::1": "::1", "::": "::1"}


class ServerRefused(ValueError):
    """The server read the request and refused it (bad input): the same refusal a local run would give."""


def loopback_address(host: str, port: int) -> tuple[str, int] | None:
    """Where this machine reaches a server bound to `host`, when it listens on loopback."""
    address = LOOPBACK.get(host)
    return (address, port) if address else None


def announce(index_dir: Path, host: str, port: int, model: str) -> Path | None:
    """Write the server's address beside the index; None when it cannot be reached on loopback or written."""
    address = loopback_address(host, port)
    if address is None:
        return None
    path = Path(index_dir) / SERVER_FILE
    record = {"host": address[0], "port": address[1], "pid": os.getpid(), "model": model}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{SERVER_FILE}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(record))
        os.replace(temporary, path)
    except OSError:
        return None
    return path


def withdraw(index_dir: Path) -> None:
    """Remove the announcement, if it is still this process's (another server may have replaced it)."""
    path = Path(index_dir) / SERVER_FILE
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def announced_server(index_dir: Path, model: str) -> tuple[str, int] | None:
    """The loopback address of a live server over this index with this model, if one announced itself."""
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        record = json.loads((Path(index_dir) / SERVER_FILE).read_text())
        host, port, pid = record["host"], int(record["port"]), int(record["pid"])
        if host in LOOPBACK.values() and 0 < port < 65536 and record.get("model") == model and process_alive(pid):
            return host, port
    return None


def asked_by_server(address: tuple[str, int], payload: dict) -> dict | None:
    """The server's answer record for `payload` (POST /api/ask); None when it cannot answer, so the caller
    answers locally. A 422 is the server refusing the input, raised as ServerRefused."""
    host, port = address
    connection = http.client.HTTPConnection(host, port, timeout=CONNECT_SECONDS)
    try:
        connection.connect()
        connection.sock.settimeout(ANSWER_SECONDS)
        connection.request("POST", "/api/ask", body=json.dumps(payload), headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        body = json.loads(response.read() or b"null")
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        connection.close()
    if response.status == 422 and isinstance(body, dict) and body.get("error"):
        raise ServerRefused(body["error"])
    return body if response.status == 200 and isinstance(body, dict) and "citations" in body else None
