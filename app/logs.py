"""Tandem's log file and crash reports, both in the user's data folder.

``<data dir>/logs/tandem.log`` is a size-capped rotating log (time, level, thread, logger).
``<data dir>/crash/crash-<timestamp>.txt`` is written for any exception nobody caught (main
thread or worker thread), and faulthandler writes a native crash (a segfault in VTK or ONNX
Runtime) into a file prepared at start-up, removed again at a clean exit.

Privacy rule (not enforced here, and no filter pretends to): code never logs patient names,
IDs or birth dates. Log UIDs, file paths and counts. Crash reports hold versions, the
platform and the traceback (frames and the exception message), never local variables.
No Qt here: the GUI passes ``on_crash`` to show its message box.
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import io
import logging
import logging.handlers
import os
import platform
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import IO

LOG_DIR = "logs"
CRASH_DIR = "crash"
LOG_FILE = "tandem.log"
LOG_LEVEL_ENV = "TANDEM_LOG_LEVEL"
MAX_LOG_BYTES = 2 * 1024 * 1024
LOG_BACKUPS = 4
LOG_FORMAT = "%(asctime)s %(levelname)-7s [%(threadName)s] %(name)s: %(message)s"
# Libraries that write whole datasets (patient name, ID, birth date) into their log below
# WARNING: pynetdicom logs every C-FIND request and response identifier at INFO. They are
# held at WARNING whatever Tandem's level, so --verbose never puts patients in the log.
# dicomweb-client and urllib3 log request URLs at DEBUG, and a QIDO URL holds the search
# (patient name, ID).
QUIET_LIBRARIES = ("pynetdicom", "dicomweb_client", "urllib3")
# pydicom reports a non-conformant value by quoting it ("Invalid value for VR DA:
# '1958-02-14'"), on its logger and through warnings that imaging.header re-logs: such a
# record can carry a birth date or a name, so it is not written (the value's file still
# gets its verdict through imaging's warnings).
_VALUE_QUOTING = ("Invalid value for VR ",)

log = logging.getLogger(__name__)

CrashCallback = Callable[[Path], None]


@dataclass
class _State:
    """What :func:`setup_logging` installed, so that it can be replaced or undone."""

    handler: logging.Handler | None = None
    console: logging.Handler | None = None
    crash_dir: Path | None = None
    on_crash: CrashCallback | None = None
    native_file: IO[str] | None = None
    native_path: Path | None = None
    native_header_size: int = 0
    faulthandler_was_enabled: bool = False
    previous_hooks: dict[str, object] = field(default_factory=dict)


_state = _State()
_lock = threading.Lock()


def tandem_version() -> str:
    try:
        return metadata.version("tandem")
    except metadata.PackageNotFoundError:
        return "unknown"


def log_dir(data_dir: Path) -> Path:
    return Path(data_dir) / LOG_DIR


def crash_dir(data_dir: Path) -> Path:
    return Path(data_dir) / CRASH_DIR


def crash_reports(data_dir: Path) -> list[Path]:
    """The crash reports in ``data_dir``, oldest first, without this process's own
    native-crash file (prepared in advance for faulthandler; empty while all is well)."""
    own = _state.native_path
    return [p for p in sorted(crash_dir(data_dir).glob("crash-*.txt")) if p != own]


def resolve_level(level: int | str | None) -> int:
    """``level`` if given, else ``$TANDEM_LOG_LEVEL`` (name or number), else INFO."""
    value: int | str | None = level if level is not None else os.environ.get(LOG_LEVEL_ENV)
    if value is None or value == "":
        return logging.INFO
    if isinstance(value, int):
        return value
    text = value.strip().upper()
    if text.isdigit():
        return int(text)
    named = logging.getLevelNamesMapping().get(text)
    return named if named is not None else logging.INFO


class _DropValueQuotingRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as usual
            return True
        return not any(marker in message for marker in _VALUE_QUOTING)


def setup_logging(data_dir: Path, level: int | str | None = None, *,
                  on_crash: CrashCallback | None = None) -> Path | None:
    """Log to ``<data_dir>/logs/tandem.log`` and install the crash handlers.

    Safe to call again (the GUI and every CLI command call it): the previous Tandem handler
    is replaced, never doubled. Returns the log file, or None when the data folder cannot
    be written (Tandem then runs without a log file rather than not at all).
    """
    with _lock:
        _remove_handlers()
        root = logging.getLogger()
        path = log_dir(data_dir) / LOG_FILE
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler: logging.Handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8",
                delay=False)
        except OSError as exc:
            sys.stderr.write(f"tandem: cannot write the log file {path} ({exc.strerror})\n")
            handler = logging.NullHandler()
            path_or_none: Path | None = None
        else:
            path_or_none = path
        resolved = resolve_level(level)
        handler.setLevel(resolved)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(_DropValueQuotingRecords())
        root.addHandler(handler)
        # Without a handler, Python printed warnings on stderr ("last resort"); keep that.
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("tandem: %(levelname)s: %(message)s"))
        console.addFilter(_DropValueQuotingRecords())
        root.addHandler(console)
        root.setLevel(resolved)
        for name in QUIET_LIBRARIES:
            logging.getLogger(name).setLevel(max(logging.WARNING, resolved))
        _state.handler = handler
        _state.console = console
        _install_crash_handlers(crash_dir(data_dir), on_crash)
    log.info("Tandem %s on Python %s, %s (pid %d); log level %s", tandem_version(),
             platform.python_version(), platform.platform(), os.getpid(),
             logging.getLevelName(resolved))
    return path_or_none


def teardown_logging() -> None:
    """Remove the log handler and restore the previous hooks (tests; a clean exit)."""
    with _lock:
        _remove_handlers()
        hooks = _state.previous_hooks
        if "sys" in hooks:
            sys.excepthook = hooks.pop("sys")  # type: ignore[assignment]
        if "threading" in hooks:
            threading.excepthook = hooks.pop("threading")  # type: ignore[assignment]
        _close_native_file()
        if _state.faulthandler_was_enabled and sys.stderr is not None:
            # As before (pytest enables it, for one); a captured stderr has no descriptor.
            with contextlib.suppress(io.UnsupportedOperation, ValueError):
                faulthandler.enable(file=sys.stderr)
        _state.crash_dir = None
        _state.on_crash = None


def _remove_handlers() -> None:
    root = logging.getLogger()
    for handler in (_state.handler, _state.console):
        if handler is not None:
            root.removeHandler(handler)
            handler.close()
    _state.handler = _state.console = None


# -- crash reports ---------------------------------------------------------------------------

def _install_crash_handlers(folder: Path, on_crash: CrashCallback | None) -> None:
    _state.crash_dir = folder
    _state.on_crash = on_crash
    if "sys" not in _state.previous_hooks:
        _state.faulthandler_was_enabled = faulthandler.is_enabled()
        _state.previous_hooks["sys"] = sys.excepthook
        _state.previous_hooks["threading"] = threading.excepthook
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    _close_native_file()
    _open_native_file(folder)


def _report_header(kind: str) -> str:
    return (f"Tandem crash report ({kind})\n"
            f"time: {datetime.now().astimezone().isoformat(timespec='seconds')}\n"
            f"tandem: {tandem_version()}\n"
            f"python: {platform.python_version()} ({platform.python_implementation()})\n"
            f"platform: {platform.platform()}\n"
            f"executable: {sys.executable}\n"
            f"pid: {os.getpid()}\n")


def _timestamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-%f")


def write_crash_report(exc_type: type[BaseException], exc: BaseException,
                       tb: TracebackType | None, *, thread: str | None = None) -> Path | None:
    """Write ``crash-<timestamp>.txt`` for an uncaught exception; None if it cannot be written.

    The report holds the traceback's frames and the exception message only: no local
    variables, no datasets.
    """
    folder = _state.crash_dir
    if folder is None:
        return None
    text = _report_header("uncaught exception")
    text += f"thread: {thread or threading.current_thread().name}\n\n"
    text += "".join(traceback.format_exception(exc_type, exc, tb))
    path = folder / f"crash-{_timestamp()}.txt"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError:
        return None
    return path


def _handle(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
            thread: str) -> None:
    path = write_crash_report(exc_type, exc, tb, thread=thread)
    log.critical("uncaught %s in thread %s; crash report: %s", exc_type.__name__, thread,
                 path or "could not be written", exc_info=(exc_type, exc, tb))
    callback = _state.on_crash
    if callback is not None and path is not None:
        try:
            callback(path)
        except Exception:  # the crash path must never raise in turn
            log.exception("the crash notification failed")


def _excepthook(exc_type: type[BaseException], exc: BaseException,
                tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        previous = _state.previous_hooks.get("sys", sys.__excepthook__)
        previous(exc_type, exc, tb)  # type: ignore[operator]
        return
    _handle(exc_type, exc, tb, threading.current_thread().name)
    if _state.on_crash is None:  # no GUI to tell: the console gets the usual traceback
        sys.__excepthook__(exc_type, exc, tb)


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    thread = args.thread.name if args.thread is not None else "?"
    exc = args.exc_value if args.exc_value is not None else args.exc_type()
    _handle(args.exc_type, exc, args.exc_traceback, thread)


def _open_native_file(folder: Path) -> None:
    """Prepare the file faulthandler writes into on a fatal signal (segfault, abort)."""
    path = folder / f"crash-{_timestamp()}-native.txt"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = path.open("w", encoding="utf-8")
        header = _report_header("native crash: fatal signal") + "\n"
        handle.write(header)
        handle.flush()
    except OSError:
        return
    _state.native_file = handle
    _state.native_path = path
    _state.native_header_size = handle.tell()
    faulthandler.enable(file=handle, all_threads=True)


def _close_native_file() -> None:
    """Stop faulthandler's file; remove it when nothing was written after the header."""
    handle, path = _state.native_file, _state.native_path
    if handle is None or path is None:
        return
    if faulthandler.is_enabled():
        faulthandler.disable()
    try:
        handle.close()
        if path.stat().st_size <= _state.native_header_size:
            path.unlink(missing_ok=True)
    except (OSError, ValueError):
        pass
    _state.native_file = None
    _state.native_path = None


atexit.register(_close_native_file)
