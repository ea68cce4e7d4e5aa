"""Run crash-prone decoding in worker processes with a timeout.

The C codecs behind pydicom and GDCM can crash or hang on hostile data. Each
worker is a fresh ``python -m imaging.isolation`` interpreter (never a fork of
the GUI: it imports no Qt, no VTK, whatever ``__main__`` is) that answers
requests over its stdin/stdout pipes. A worker that dies or overruns its time
is replaced and its request becomes a :class:`DicomFileError`
(``decoder_crashed`` / ``decoder_timeout``); the other requests go on.

Workers persist across calls, so a 600-slice series pays the interpreter start
once per worker, not once per file. Arrays come back pickled (protocol 5): a
512×512 16-bit slice costs well under a millisecond of transfer.
"""

from __future__ import annotations

import atexit
import importlib
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import IO, Any, cast

from imaging import errors
from imaging.decode import DecodedPixels, decode_here, is_native
from imaging.errors import DicomFileError

DEFAULT_TIMEOUT_S = 60.0
_MAX_WORKERS = 8
_REPO_ROOT = Path(__file__).resolve().parents[1]


class _Worker:
    """One worker process and its request/reply pipes."""

    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT),
                                                          env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "imaging.isolation"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, cwd=str(_REPO_ROOT),
        )
        self.timed_out = False

    def call(self, request: tuple[Any, ...], timeout: float) -> tuple[Any, ...]:
        """Send ``request``; return the reply, or ("crashed"|"timeout", detail)."""
        self.timed_out = False
        timer = threading.Timer(timeout, self._kill_for_timeout)
        timer.start()
        try:
            stdin, stdout = cast(IO[bytes], self.proc.stdin), cast(IO[bytes], self.proc.stdout)
            pickle.dump(request, stdin, protocol=5)
            stdin.flush()
            return cast(tuple[Any, ...], pickle.load(stdout))
        except (EOFError, OSError, pickle.UnpicklingError):
            code = self.proc.wait()
            if self.timed_out:
                return ("timeout", f"no answer after {timeout:.0f} s")
            return ("crashed", f"worker process died (exit status {code})")
        finally:
            timer.cancel()

    def _kill_for_timeout(self) -> None:
        self.timed_out = True
        self.proc.kill()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()  # the worker exits at end of input
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


class DecoderPool:
    """A persistent set of worker processes; thread-safe (callable from a QThread)."""

    def __init__(self, workers: int | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.size = workers or max(1, min(os.cpu_count() or 1, _MAX_WORKERS))
        self.timeout = timeout
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Start the worker processes now (they import the codecs in the background)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("decoder pool is closed")
            while len(self._all) < self.size:
                worker = _Worker()
                self._all.append(worker)
                self._idle.put(worker)

    def call(self, module: str, function: str, *args: Any, timeout: float | None = None) -> Any:
        """Run ``module.function(*args)`` in a worker; its result, or its exception re-raised.

        A crash or timeout raises :class:`DicomFileError` (``decoder_crashed`` /
        ``decoder_timeout``) and the worker is replaced.
        """
        self.start()
        worker = self._idle.get()
        try:
            reply = worker.call((module, function, args), timeout or self.timeout)
        finally:
            self._release(worker)
        status = reply[0]
        if status == "ok":
            return reply[1]
        if status == "dicom_error":
            _, kind, message, path = reply
            raise DicomFileError(kind, message, path)
        if status == "exception":
            raise reply[1]
        kind = errors.DECODER_TIMEOUT if status == "timeout" else errors.DECODER_CRASHED
        raise DicomFileError(kind, f"decoder {status} ({reply[1]})",
                             args[0] if args and isinstance(args[0], str | Path) else None)

    def _release(self, worker: _Worker) -> None:
        with self._lock:
            if not worker.alive:
                self._all.remove(worker)
                worker.close()
                if self._closed:
                    return
                worker = _Worker()
                self._all.append(worker)
            elif self._closed:
                worker.close()
                return
        self._idle.put(worker)

    def decode(self, path: Path, frames: tuple[int, ...] | None = None) -> DecodedPixels:
        """:func:`imaging.decode.decode_here` in a worker."""
        # Absolute: the worker runs in the repository's folder, not the caller's.
        return cast(DecodedPixels, self.call("imaging.decode", "decode_here",
                                             Path(path).absolute(), frames))

    def decode_auto(self, path: Path) -> DecodedPixels:
        """Native data in the calling thread (plain numpy), compressed data in a worker."""
        return decode_here(path) if is_native(path) else self.decode(path)

    def decode_many(
        self,
        paths: Iterable[Path | str],
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> Iterator[tuple[Path, DecodedPixels | DicomFileError]]:
        """Decode ``paths`` in parallel; yield (path, pixels or error) in completion order.

        ``progress(done, total)`` is called after each file; when ``cancel()``
        returns True no new file is started and the iteration ends.
        """
        todo = [Path(p) for p in paths]
        total, done = len(todo), 0
        with ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="decode") as threads:
            pending: dict[Future[DecodedPixels], Path] = {}
            items = iter(todo)
            while True:
                while len(pending) < self.size and not (cancel and cancel()):
                    path = next(items, None)
                    if path is None:
                        break
                    pending[threads.submit(self.decode_auto, path)] = path
                if not pending:
                    return
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    path = pending.pop(future)
                    done += 1
                    try:
                        result: DecodedPixels | DicomFileError = future.result()
                    except DicomFileError as exc:
                        result = exc
                    except Exception as exc:  # a bug, not the file: still report, go on
                        result = DicomFileError(errors.CORRUPT_PIXEL_DATA,
                                                f"decoding failed ({exc})", path)
                    if progress:
                        progress(done, total)
                    yield path, result
                if cancel and cancel():
                    for future in pending:
                        future.cancel()
                    return

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._all = self._all, []
        for worker in workers:
            worker.close()


_default: DecoderPool | None = None
_default_lock = threading.Lock()


def default_pool() -> DecoderPool:
    """The process-wide pool (created on first use, closed at exit)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = DecoderPool()
            atexit.register(_default.close)
        return _default


def decode_isolated(path: Path, frames: tuple[int, ...] | None = None) -> DecodedPixels:
    return default_pool().decode(path, frames)


def decode_many(
    paths: Iterable[Path | str],
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[tuple[Path, DecodedPixels | DicomFileError]]:
    """Decode many files in parallel worker processes (see :meth:`DecoderPool.decode_many`)."""
    return default_pool().decode_many(paths, progress, cancel)


def _serve() -> None:
    """Worker loop: answer (module, function, args) requests until stdin closes."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # C libraries that print to stdout would corrupt the reply stream: point fd 1 at stderr.
    reply = os.fdopen(os.dup(stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), stdout.fileno())
    importlib.import_module("imaging.decode")  # warm up before the first request
    while True:
        try:
            module, function, args = pickle.load(stdin)
        except EOFError:
            return
        try:
            answer: tuple[Any, ...] = (
                "ok", getattr(importlib.import_module(module), function)(*args))
        except DicomFileError as exc:
            answer = ("dicom_error", exc.kind, exc.message, str(exc.path) if exc.path else None)
        except Exception as exc:
            answer = ("exception", _picklable(exc))
        pickle.dump(answer, reply, protocol=5)
        reply.flush()


def _picklable(exc: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    _serve()
