"""ONNX Runtime sessions: verified bytes, the best provider this PC has, quiet logs, cancelling.

:func:`open_session` reads the model file once, checks its sha256 against the manifest
*before* ONNX Runtime sees the bytes (a tampered or half-copied model never runs), then
tries the manifest's providers in order (TensorRT → CUDA → … → CPU), keeping only those
this ONNX Runtime build has. When a GPU provider fails to start, or ONNX Runtime quietly
drops it, the session runs on the CPU and :attr:`ModelSession.notice` says so in words
the AI panel shows; ONNX Runtime's own log lines never reach the user's console.
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

if TYPE_CHECKING:
    from imaging.loader import CancelToken
    from inference.registry import ModelEntry

CPU = "CPUExecutionProvider"
# Fatal only: ORT logs a failed CUDA/TensorRT load as an *error* before falling back, and
# that is exactly the console spam users must not see; we report the fallback ourselves.
_ORT_LOG_SEVERITY = 4
_CANCEL_POLL_S = 0.01
_SHORT_NAMES = {
    "TensorrtExecutionProvider": "TensorRT",
    "CUDAExecutionProvider": "CUDA",
    "DmlExecutionProvider": "DirectML",
    "OpenVINOExecutionProvider": "OpenVINO",
    "CoreMLExecutionProvider": "CoreML",
    CPU: "the CPU",
}

ort.set_default_logger_severity(_ORT_LOG_SEVERITY)


class ModelUnavailable(Exception):
    """The model cannot run at all (invalid manifest, wrong bytes, ORT refused the graph)."""

    def __init__(self, model_id: str, reason: str) -> None:
        self.model_id = model_id
        self.reason = reason
        super().__init__(f"{model_id}: {reason}")


class RunCancelled(Exception):
    """The cancel token was set while ONNX Runtime was running the graph."""


def available_providers() -> list[str]:
    """Execution providers this ONNX Runtime build offers, in ORT's priority order."""
    return list(ort.get_available_providers())


def provider_label(provider: str) -> str:
    """Short human name of a provider ("CUDA", "the CPU")."""
    return _SHORT_NAMES.get(provider, provider.removesuffix("ExecutionProvider"))


@dataclass
class ModelSession:
    """One loaded model; :meth:`run` is safe to call from several threads at once."""

    model_id: str
    session: ort.InferenceSession
    provider: str  # the provider actually running the graph's first nodes
    notice: str = ""  # "" or why a faster provider was not used

    def run(self, feeds: dict[str, np.ndarray], *,
            cancel: CancelToken | None = None) -> dict[str, np.ndarray]:
        """All graph outputs by name; raises :class:`RunCancelled` when ``cancel`` is set.

        ORT cannot be interrupted from Python except through ``RunOptions.terminate``,
        which it checks between nodes: a watcher thread sets it as soon as the token is.
        """
        options = ort.RunOptions()
        options.log_severity_level = _ORT_LOG_SEVERITY
        done = threading.Event()
        watcher = None
        if cancel is not None:
            if cancel.is_set():
                raise RunCancelled()
            watcher = threading.Thread(target=_watch, args=(cancel, options, done),
                                       name=f"cancel-{self.model_id}", daemon=True)
            watcher.start()
        try:
            names = [o.name for o in self.session.get_outputs()]
            values = self.session.run(names, feeds, options)
        except Exception:
            if cancel is not None and cancel.is_set():
                raise RunCancelled() from None
            raise
        finally:
            done.set()
            if watcher is not None:
                watcher.join()
        return {name: np.asarray(v) for name, v in zip(names, values, strict=True)}

    def warm_up(self) -> None:
        """One run on zeros: allocations, kernel selection and (GPU) engine builds happen now."""
        feeds = {}
        for node in self.session.get_inputs():
            shape = [d if isinstance(d, int) and d > 0 else 1 for d in node.shape]
            dtype = np.float16 if node.type == "tensor(float16)" else np.float32
            feeds[node.name] = np.zeros(shape, dtype=dtype)
        self.run(feeds)


def _watch(cancel: CancelToken, options: ort.RunOptions, done: threading.Event) -> None:
    while not done.wait(_CANCEL_POLL_S):
        if cancel.is_set():
            options.terminate = True
            return


def open_session(entry: ModelEntry, preferred: Sequence[str] | None = None) -> ModelSession:
    """Verify ``entry``'s bytes and start a session on the best provider available.

    ``preferred`` (e.g. from the settings: CPU only) replaces the manifest's order;
    providers this ORT build lacks are skipped, and the CPU is always the last resort.
    Raises :class:`ModelUnavailable` with a reason a person can act on.
    """
    manifest = entry.manifest
    if manifest is None or entry.problems:
        raise ModelUnavailable(entry.id, "; ".join(entry.problems) or "no valid manifest")
    try:
        data = entry.model_path.read_bytes()
    except OSError as exc:
        raise ModelUnavailable(entry.id, f"cannot read {entry.model_path.name}: "
                               f"{exc.strerror or exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest.artifact.sha256:
        raise ModelUnavailable(entry.id, f"{entry.model_path.name} sha256 {digest[:12]}… does "
                               f"not match the manifest's {manifest.artifact.sha256[:12]}…; "
                               "the file was modified or copied incompletely")
    wanted = _provider_order(manifest.execution_providers, preferred)
    options = _session_options()
    notice = ""
    if wanted[0] != CPU:
        try:
            session = _create(data, options, wanted)
        except Exception as exc:  # ORT raises plain RuntimeError/Fail subclasses
            notice = _fallback_notice(wanted[0], _first_line(exc))
        else:
            used = session.get_providers()[0]
            if used != wanted[0]:
                notice = _fallback_notice(wanted[0], "ONNX Runtime could not start it",
                                          used)
            return ModelSession(entry.id, session, used, notice)
    try:
        session = _create(data, options, [CPU])
    except Exception as exc:
        raise ModelUnavailable(entry.id, f"ONNX Runtime cannot load the model: "
                               f"{_first_line(exc)}") from None
    return ModelSession(entry.id, session, CPU, notice)


def _provider_order(manifest_order: Sequence[str], preferred: Sequence[str] | None) -> list[str]:
    have = set(available_providers())
    order = [p for p in (preferred if preferred is not None else manifest_order)
             if p in have and p in manifest_order and p != CPU]
    return [*order, CPU]


def _session_options() -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.log_severity_level = _ORT_LOG_SEVERITY
    # Leave one core free: the GUI thread (rendering, scrolling) must stay responsive
    # while a model runs in the background; one thread less costs little latency.
    options.intra_op_num_threads = max(1, (os.cpu_count() or 2) - 1)
    options.inter_op_num_threads = 1
    return options


def _create(data: bytes, options: ort.SessionOptions,
            providers: list[str]) -> ort.InferenceSession:
    # ORT also warns in Python ("Specified provider ... is not in available provider names").
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ort.InferenceSession(data, options, providers=providers)


def _fallback_notice(wanted: str, reason: str, used: str = CPU) -> str:
    return f"{provider_label(wanted)} unavailable ({reason}) — running on {provider_label(used)}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
