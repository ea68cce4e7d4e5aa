"""Run the registry's models on one image: applicability, cache, session, pre/post-processing.

Result conventions (what the AI panel, the CLI and the cache rely on):

- ``applicable=False`` — the model did not run because it should not: the image is not
  what it was made for (modality, body part, …; see :mod:`inference.applicability`), the
  image is unlike its training data (OOD check), or the model itself is unusable
  (invalid manifest, wrong sha256, ONNX Runtime refuses it: reason ``"model unavailable: …"``).
- ``applicable=True`` and ``reason`` starting with ``"failed: "`` — the model should have
  run but something broke while running it (preprocessing, ONNX Runtime, an output that
  does not match the manifest). No scores; never cached, so a later run retries.
- ``applicable=True`` and ``reason == ""`` — it ran; scores, findings and heatmaps are set.
  ``site_calibrated=True`` when only the practice's site calibration let the image past the
  OOD check (:mod:`inference.ood`).

Results that depend on the site calibration (OOD refusals, site-calibrated results) are
never served from the cache: a calibration made or removed since must apply.

:meth:`AnalysisEngine.analyze` never raises for a bad model or a bad image; it raises
:class:`AnalysisCancelled` when the cancel token is set, and ``KeyError`` for a model id
the registry does not know (a caller's mistake, not a runtime condition).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from imaging.loader import CancelToken
from inference.applicability import check_applicability
from inference.cache import ResultCache
from inference.manifest import ModelManifest
from inference.ood import OodStats, SiteCalibrations
from inference.postprocess import decode_outputs, manifest_scales
from inference.preprocess import prepare
from inference.reasons import Reason
from inference.registry import ModelEntry, ModelRegistry
from inference.results import AnalysisResult, not_applicable
from inference.session import ModelSession, ModelUnavailable, RunCancelled, open_session
from inference.source import SourceImage

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class AnalysisCancelled(Exception):
    """The caller's cancel token was set; no result."""


@dataclass(frozen=True)
class _Loaded:
    session: ModelSession
    ood: OodStats | None = None


@dataclass(frozen=True)
class OodProbe:
    """The embedding the OOD check reads, and its distance to the training statistics."""

    embedding: np.ndarray  # (D,)
    distance: float
    threshold: float
    site_accepted: bool = False  # within the practice's site calibration, if there is one

    @property
    def accepted(self) -> bool:
        return self.distance <= self.threshold


class AnalysisEngine:
    """Sessions are created lazily, once per model (and sha256), and shared between threads."""

    def __init__(self, registry: ModelRegistry, *, cache: ResultCache | None = None,
                 preferred_providers: Sequence[str] | None = None,
                 heatmap_max_side: int = 512, site_calibrations: Path | None = None) -> None:
        """``site_calibrations``: the folder of the practice's site calibrations (the app
        passes :func:`inference.ood.site_calibration_dir`); None: the training check only."""
        self._registry = registry
        self._sites = SiteCalibrations(site_calibrations)
        self._cache = cache
        self._preferred = None if preferred_providers is None else list(preferred_providers)
        self._heatmap_max_side = heatmap_max_side
        self._lock = threading.Lock()
        self._model_locks: dict[str, threading.Lock] = {}
        self._loaded: dict[tuple[str, str], _Loaded] = {}

    # ------------------------------------------------------------------ public

    @property
    def registry(self) -> ModelRegistry:
        """The models this engine runs."""
        return self._registry

    def analyze(self, source: SourceImage, model_id: str, *,
                cancel: CancelToken | None = None) -> AnalysisResult:
        """What ``model_id`` says about ``source`` (see the module docstring for conventions)."""
        entry = self._registry.get(model_id)
        manifest = entry.manifest
        if manifest is None or entry.problems:
            return _refused(source, entry, Reason(
                "unavailable", "; ".join(entry.problems) or "no valid manifest"))
        reason = check_applicability(manifest, source.meta)
        if reason is not None:
            return _refused(source, entry, reason)
        _check(cancel)
        cached = self._from_cache(source, manifest)
        if cached is not None:
            return cached
        try:
            loaded = self._load(entry)
        except ModelUnavailable as exc:
            return _refused(source, entry, Reason("unavailable", exc.reason))
        try:
            result = self._run(source, manifest, loaded, cancel)
        except RunCancelled:
            raise AnalysisCancelled() from None
        except AnalysisCancelled:
            raise
        except Exception as exc:  # a broken model or image must not take the caller down
            return replace(_refused(source, entry, Reason("failed", _describe(exc))),
                           applicable=True, provider=loaded.session.provider,
                           provider_notice=loaded.session.notice)
        if self._cache is not None and source.meta.is_dicom and not _site_dependent(result):
            self._cache.put(result)
        return result

    def analyze_all(self, source: SourceImage, model_ids: Sequence[str] | None = None, *,
                    cancel: CancelToken | None = None) -> list[AnalysisResult]:
        """One result per model: ``model_ids``, or every valid model of the registry."""
        ids = [e.id for e in self._registry.usable()] if model_ids is None else list(model_ids)
        return [self.analyze(source, model_id, cancel=cancel) for model_id in ids]

    def ood_probe(self, source: SourceImage, model_id: str) -> OodProbe | Reason:
        """What the OOD check of ``model_id`` sees in ``source`` (for a site calibration), or
        why the model does not run on it (applicability, unavailable, failed, no check)."""
        entry = self._registry.get(model_id)
        manifest = entry.manifest
        if manifest is None or entry.problems:
            return Reason("unavailable", "; ".join(entry.problems) or "no valid manifest")
        reason = check_applicability(manifest, source.meta)
        if reason is not None:
            return reason
        ood = manifest.applicability.ood
        try:
            loaded = self._load(entry)
            if ood is None or loaded.ood is None:
                return Reason("unavailable", "the model has no out-of-distribution check")
            outputs = loaded.session.run(
                {manifest.input.name: prepare(source, manifest.input).tensor})
            embedding = _embedding(outputs, ood.output, loaded.ood.mean.size)
        except ModelUnavailable as exc:
            return Reason("unavailable", exc.reason)
        except Exception as exc:  # a bad image must not stop a calibration over a folder
            return Reason("failed", _describe(exc))
        distance = loaded.ood.score(embedding)
        site = self._sites.get(manifest.id, manifest.artifact.sha256, embedding.size)
        return OodProbe(embedding, distance, ood.threshold,
                        site is not None and site.distance(embedding) <= site.threshold)

    def warm_up(self, model_id: str) -> None:
        """Create the session now and run it once on zeros (raises :class:`ModelUnavailable`)."""
        self._load(self._registry.get(model_id)).session.warm_up()

    def session_provider(self, model_id: str) -> str | None:
        """The provider running ``model_id``'s session, or None before it is created."""
        with self._lock:
            for (loaded_id, _), loaded in self._loaded.items():
                if loaded_id == model_id:
                    return loaded.session.provider
        return None

    # ------------------------------------------------------------------ stages

    def _run(self, source: SourceImage, manifest: ModelManifest, loaded: _Loaded,
             cancel: CancelToken | None) -> AnalysisResult:
        meta = source.meta
        timings = {"decode": source.decode_ms}
        start = time.perf_counter()
        prepared = prepare(source, manifest.input)
        timings["preprocess"] = _ms_since(start)
        _check(cancel)
        start = time.perf_counter()
        outputs = loaded.session.run({manifest.input.name: prepared.tensor}, cancel=cancel)
        timings["infer"] = _ms_since(start)
        _check(cancel)
        start = time.perf_counter()
        base = AnalysisResult(
            manifest.id, manifest.version, manifest.artifact.sha256, meta.source,
            meta.sop_instance_uid, meta.frame, source.size, applicable=True,
            provider=loaded.session.provider, provider_notice=loaded.session.notice,
            timings_ms=timings)
        ood_reason, site_calibrated = self._ood_check(manifest, loaded, outputs)
        if ood_reason is not None:
            timings["postprocess"] = _ms_since(start)
            return replace(base, applicable=False, reason=str(ood_reason),
                           reason_detail=ood_reason)
        base = replace(base, site_calibrated=site_calibrated)
        decoded = decode_outputs(manifest, outputs, prepared.transform,
                                 key_prefix=_key_prefix(manifest.id, source),
                                 heatmap_max_side=self._heatmap_max_side)
        timings["postprocess"] = _ms_since(start)
        return replace(base, case_scores=decoded.case_scores, findings=decoded.findings,
                       heatmaps=decoded.heatmaps)

    def _ood_check(self, manifest: ModelManifest, loaded: _Loaded,
                   outputs: dict[str, np.ndarray]) -> tuple[Reason | None, bool]:
        """(why the image is refused, or None; whether only the site calibration let it in)."""
        ood = manifest.applicability.ood
        if ood is None or loaded.ood is None:
            return None, False
        embedding = _embedding(outputs, ood.output, loaded.ood.mean.size)
        distance = loaded.ood.score(embedding)
        if distance <= ood.threshold:
            return None, False
        site = self._sites.get(manifest.id, manifest.artifact.sha256, embedding.size)
        if site is not None and site.distance(embedding) <= site.threshold:
            return None, True
        return Reason("ood", f"{distance:.2f}", f"{ood.threshold:g}"), False

    def _from_cache(self, source: SourceImage, manifest: ModelManifest) -> AnalysisResult | None:
        meta = source.meta
        if self._cache is None or not meta.is_dicom or not meta.sop_instance_uid:
            return None
        start = time.perf_counter()
        hit = self._cache.get(meta.sop_instance_uid, meta.frame, manifest.artifact.sha256)
        if hit is None or _site_dependent(hit):
            return None
        # The timings say what this call cost; the same image may have moved since. The
        # entry's sha256 is this model's, but it may predate the manifest's scale fields.
        return replace(hit, source=meta.source, timings_ms={
            "decode": source.decode_ms, "cache_read": _ms_since(start)},
            case_scores=manifest_scales(manifest, hit.case_scores))

    def _load(self, entry: ModelEntry) -> _Loaded:
        manifest = entry.manifest
        if manifest is None or entry.problems:
            raise ModelUnavailable(entry.id, "; ".join(entry.problems) or "no valid manifest")
        key = (entry.id, manifest.artifact.sha256)
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]
            model_lock = self._model_locks.setdefault(entry.id, threading.Lock())
        with model_lock:  # one creation per model; other models load in parallel
            with self._lock:
                if key in self._loaded:
                    return self._loaded[key]
            session = open_session(entry, self._preferred)
            loaded = _with_ood_stats(entry, manifest, session)
            with self._lock:
                self._loaded = {k: v for k, v in self._loaded.items() if k[0] != entry.id}
                self._loaded[key] = loaded
            return loaded


# ---------------------------------------------------------------------- helpers


def _with_ood_stats(entry: ModelEntry, manifest: ModelManifest,
                    session: ModelSession) -> _Loaded:
    """Attach the statistics of the manifest's OOD check (``ood_stats.npz``)."""
    ood = manifest.applicability.ood
    if ood is None:
        return _Loaded(session)
    path = entry.folder / ood.stats_file
    try:
        stats = OodStats.from_npz(path, relative=ood.method == "embedding_relative_mahalanobis")
    except (OSError, ValueError, KeyError) as exc:
        raise ModelUnavailable(entry.id, f"OOD statistics {path.name} unreadable: "
                               f"{_describe(exc)}") from None
    return _Loaded(session, stats)


def _embedding(outputs: dict[str, np.ndarray], name: str, size: int) -> np.ndarray:
    embedding = np.asarray(outputs[name], dtype=np.float64).ravel()
    if embedding.size != size:
        raise ValueError(f"embedding {name!r} has {embedding.size} values, the OOD "
                         f"statistics {size}")
    return embedding


def _site_dependent(result: AnalysisResult) -> bool:
    """Refused as unlike the training data, or let through by the site calibration."""
    return result.site_calibrated or (
        result.reason_detail is not None and result.reason_detail.code == "ood")


def _refused(source: SourceImage, entry: ModelEntry, reason: Reason) -> AnalysisResult:
    manifest = entry.manifest
    meta = source.meta
    return not_applicable(entry.id, manifest.version if manifest else "",
                          manifest.artifact.sha256 if manifest else "", meta.source,
                          meta.sop_instance_uid, meta.frame, source.size, reason)


def _key_prefix(model_id: str, source: SourceImage) -> str:
    """A file-name-safe, per-image heatmap key prefix: ``<model>-<SOP UID or stem+hash>-f<n>``."""
    meta = source.meta
    if meta.sop_instance_uid:
        name = _UNSAFE.sub("_", meta.sop_instance_uid)
    else:  # two pictures may share a name in different folders
        digest = hashlib.sha1(meta.source.encode("utf-8")).hexdigest()[:6]
        name = f"{_UNSAFE.sub('_', Path(meta.source).stem)}-{digest}"
    return f"{model_id}-{name}-f{meta.frame}"


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.is_set():
        raise AnalysisCancelled()


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _describe(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__
