"""ParseWorker: files read and chunked in a child process that can be stopped.

A hostile file (a decompression bomb, a 50 MB line, thousands of pages) costs at most
`ingest.parse_seconds` and `ingest.parse_memory_mb`, and whatever a parsing library
raises comes back as a ParseError naming the file and the problem, so the rest of the
papers still go in. The child is a fresh interpreter (spawned, not forked), so it holds
none of the model's memory and its address-space limit bounds the parsing alone. It
serves one file after another and is started again only after it has been stopped.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

from core.settings import Settings
from ingest.parse import ParseError

STOP_GRACE_SECONDS = 5.0
START_SECONDS = 300.0  # starting the child (imports) is not a file's time; on a busy machine it can take a while


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


def limit_address_space(megabytes: int) -> None:
    import resource

    size = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size, size))


def prepared_or_problem(request: tuple, settings: Settings) -> tuple[str, object]:
    """("ok", PreparedDocument) or ("error", problem) for one (path, sha, sidecars, statements) request; `statements`:
    also find the commitments register's statements (ingest.pipeline.prepared_with_statements)."""
    from ingest.pipeline import prepared_with_statements

    path, sha, sidecars, statements = request
    try:
        return "ok", prepared_with_statements(Path(path), sha, sidecars, settings, statements)
    except ParseError as exc:
        return "error", exc.problem
    except MemoryError:
        return "error", (f"needs more than {settings.ingest.parse_memory_mb:,} MB of memory to read; the limit is the "
                         f"setting ingest.parse_memory_mb")
    except RecursionError:
        return "error", "nested too deeply to read (a damaged or hostile file)"
    except Exception as exc:  # any library's failure on one file is that file's problem, not the ingest's
        return "error", f"could not be read ({_short(exc)})"


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies, so a SIGKILLed ingest leaves no reader behind."""
    import ctypes
    import ctypes.util

    libc_name = ctypes.util.find_library("c")
    if libc_name:
        try:
            ctypes.CDLL(libc_name).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def serve_requests(connection, settings_json: str) -> None:
    """The child's loop: one request in, one result out, until the parent closes the pipe."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    settings = Settings.model_validate_json(settings_json)
    limit_address_space(settings.ingest.parse_memory_mb)
    # Imported before "ready", so no file pays for them.
    from commitments.register import statement_spans  # noqa: F401
    from ingest.pipeline import prepare_document  # noqa: F401

    connection.send(("ready", None))
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        kind, value = prepared_or_problem(request, settings)
        try:
            connection.send((kind, value))
        except MemoryError:
            connection.send(("error", f"its text is too large to hand back within ingest.parse_memory_mb "
                                      f"({settings.ingest.parse_memory_mb:,} MB)"))


class ParseWorker:
    """Prepares documents in a child process; a file that overruns its time is stopped with the child."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._process = None
        self._connection = None

    def __enter__(self) -> "ParseWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def prepare(self, path: Path, sha: str, sidecars: dict[str, dict], statements: bool = False):
        """The PreparedDocument of `path` (with the register's statements when `statements`); raises ParseError
        naming the file when it cannot be read, has no text, or overruns a limit."""
        request = (str(path), sha, {k: v for k, v in sidecars.items() if k == Path(path).stem}, statements)
        try:
            self._start()
            self._connection.send(request)
        except OSError:  # the child died between files (the system's OOM killer): start another
            self._stop()
            try:
                self._start()
                self._connection.send(request)
            except OSError as exc:
                self._stop()
                raise ParseError(path, f"the file reader could not start ({exc}); ingest.parse_memory_mb "
                                       f"({self.settings.ingest.parse_memory_mb:,} MB) may be too low") from exc
        seconds = self.settings.ingest.parse_seconds
        if not self._connection.poll(seconds):
            self._stop()
            raise ParseError(path, f"took longer than {seconds:g} s to read; the limit is the setting ingest.parse_seconds")
        try:
            kind, value = self._connection.recv()
        except (EOFError, OSError):
            code = self._stop()
            raise ParseError(path, self._death_problem(code)) from None
        if kind == "error":
            if value.startswith("needs more than"):
                self._stop()  # memory ran out mid-parse: start afresh for the next file
            raise ParseError(path, value)
        return value

    def _death_problem(self, code: int | None) -> str:
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return (f"the reader stopped ({how}) while reading it; it may need more than ingest.parse_memory_mb "
                f"({self.settings.ingest.parse_memory_mb:,} MB) or be damaged")

    def _start(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        self._stop()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        # One thread per library: the parent is embedding on the other cores.
        environment = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
        saved = {name: os.environ.get(name) for name in environment}
        os.environ.update(environment)
        try:
            self._process = context.Process(target=serve_requests, args=(child, self.settings.model_dump_json()),
                                            name="scrutiny-parse", daemon=True)
            self._process.start()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        child.close()
        self._connection = parent
        try:
            if not parent.poll(START_SECONDS):
                raise OSError(f"it did not start within {START_SECONDS:g} s")
            parent.recv()
        except EOFError:
            self._stop()
            raise OSError("it stopped while starting") from None
        except OSError:
            self._stop()
            raise

    def _stop(self) -> int | None:
        """Stop the child (it may be mid-file); returns its exit code."""
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if connection is not None:
            connection.close()
        if process is None:
            return None
        if process.is_alive():
            process.kill()
        process.join(STOP_GRACE_SECONDS)
        return process.exitcode

    def interrupt(self) -> None:
        """Stop the child from another thread, mid-file: the waiting `prepare` then raises ParseError at once."""
        process = self._process
        if process is not None and process.is_alive():
            process.kill()

    def close(self) -> None:
        """Let an idle child finish by closing its pipe; stop it if it does not."""
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if connection is not None:
            connection.close()
        if process is not None:
            process.join(STOP_GRACE_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
