"""The radiologist's reading of the open study: edits, autosave, undo, the blinded gate.

:class:`ReadingController` is the one place the GUI changes a reading. Every edit is
an undoable command (:mod:`app.mark_commands`) saved at once through
:class:`reading.store.ReadingStore` (in the study database), so a crash loses nothing
that was on screen, except free text typed in the last second (debounced).

The blinded double read:

1. the first read (purpose ``"first"``) is drawn and signed while the AI results,
   computed in the background, are held back (:attr:`ReadingController.ai_withheld`);
2. signing it records ``ai_revealed`` and one ``ai_shown`` per result, opens a
   ``"final"`` draft (a copy that points to the first read) and emits ``revealed``;
   the concordance of the AI findings with the marks is computed and shown;
3. the radiologist accepts or dismisses AI findings (decisions saved in the final
   draft) and signs it; its concordance is stored with it.

Unblinded (practice setting): the AI is shown at once, one reading is signed and its
concordance stored. A signed reading is read-only until :meth:`amend`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from app import mark_commands as commands
from imaging.db import StudyDatabase
from inference.results import AnalysisResult
from reading.concordance import Concordance, compare
from reading.model import AiDecision, Assessment, Decision, Mark, MarkShape, Point, Reading
from reading.pdf_dicom import write_encapsulated_pdf
from reading.report_images import patient_block, report_key_images
from reading.report_pdf import write_report
from reading.report_text import text as report_text
from reading.sources import source_datasets
from reading.sr_export import write_exports
from reading.store import ReadingStore, default_reader
from reading.study_ai import study_images as study_image_infos
from reading.vocabulary import MARK_LABELS, StudyKind, series_kind, study_kind

_log = logging.getLogger(__name__)

TEXT_DEBOUNCE_MS = 1000


@dataclass(frozen=True)
class StudyImages:
    """What the reading needs from a study's headers: its kind and per-image geometry."""

    study_uid: str
    kind: StudyKind | None
    sop_order: tuple[str, ...] = ()  # the study's images, series by series
    mm_per_px: Mapping[str, float] = field(default_factory=dict)  # SOP UID -> mm
    laterality: Mapping[str, str] = field(default_factory=dict)  # SOP UID -> "R"/"L"

    @property
    def sop_uids(self) -> frozenset[str]:
        return frozenset(self.sop_order)


def study_images(db: StudyDatabase, study_uid: str) -> StudyImages:
    """The study's kind (first series with a reading form) and each image's spacing/side.

    Spacing: PixelSpacing (calibrated at the patient) when present, else
    ImagerPixelSpacing (at the detector), mean of rows and columns.
    """
    kind: StudyKind | None = None
    order: list[str] = []
    spacing: dict[str, float] = {}
    sides: dict[str, str] = {}
    for series in db.series(study_uid):
        headers = db.series_headers(series.series_instance_uid)
        kind_of_series = series_kind(series, headers)
        kind = kind or kind_of_series
        for header in headers:
            if not header.is_image:
                continue
            uid = header.sop_instance_uid
            order.append(uid)
            pair = header.pixel_spacing or header.imager_pixel_spacing
            if pair is not None and min(pair) > 0:
                spacing[uid] = (pair[0] + pair[1]) / 2
            if header.laterality.upper() in ("R", "L"):
                sides[uid] = header.laterality.upper()
            if kind is None and kind_of_series is None:
                kind = study_kind(header.modality, header.body_part,
                                  f"{header.series_description} {header.study_description}")
    return StudyImages(study_uid, kind, tuple(order), spacing, sides)


def _tr(text: str) -> str:
    return QCoreApplication.translate("ReadingController", text)


class ReadingController(QObject):
    """The open study's reading, its undo stack and the AI it may show."""

    reading_changed = Signal(object)  # Reading | None
    revealed = Signal()
    concordance_changed = Signal(object)  # Concordance | None
    ai_visibility_changed = Signal()  # the gate opened or closed (study changed, signed…)

    def __init__(self, db: StudyDatabase, *, blinded: bool = True, reader: str | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.store = ReadingStore(db.path)
        self.reader = reader or default_reader()
        self.blinded = blinded  # practice setting; applies to readings started from now on
        self.undo_stack = QUndoStack(self)
        self._reading: Reading | None = None
        self._images: StudyImages | None = None
        self._results: dict[tuple[str, int, str], AnalysisResult] = {}
        self._shown: set[tuple[str, str, int]] = set()  # (model sha256, sop, frame) audited
        self._concordance: Concordance | None = None
        self._pending_text: str | None = None
        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(TEXT_DEBOUNCE_MS)
        self._text_timer.timeout.connect(self.flush_text)

    # -- state ---------------------------------------------------------------------------

    @property
    def reading(self) -> Reading | None:
        return self._reading

    @property
    def study_uid(self) -> str | None:
        return self._images.study_uid if self._images is not None else None

    @property
    def images(self) -> StudyImages | None:
        return self._images

    @property
    def concordance(self) -> Concordance | None:
        return self._concordance

    @property
    def ai_withheld(self) -> bool:
        """True while the AI must stay hidden: a blinded first read not signed yet."""
        r = self._reading
        return r is not None and r.blinded and r.purpose == "first" and not r.signed

    @property
    def editable(self) -> bool:
        return self._reading is not None and not self._reading.signed

    @property
    def results(self) -> list[AnalysisResult]:
        """The AI results of the open study's images (usable ones: they ran)."""
        return list(self._results.values())

    # -- study ---------------------------------------------------------------------------

    def open_study(self, study_uid: str, kind: StudyKind | None = None) -> Reading | None:
        """Open (or resume) the reading of ``study_uid``; None when it has no reading form."""
        if self._images is not None and self._images.study_uid == study_uid:
            return self._reading
        self.close_study()
        images = study_images(self.db, study_uid)
        kind = kind or images.kind
        if kind is None:
            self._images = images
            self._emit_all()
            return None
        self._images = replace(images, kind=kind)
        current = self.store.current(study_uid)
        if current is None:
            current = self.store.start(study_uid, self.reader, kind, blinded=self.blinded)
        elif current.signed and current.purpose == "first" and current.blinded:
            # Signed, then interrupted before the final draft was opened: open it now.
            current = self.store.follow_up(current.reading_id, "final")
        self.store.record(study_uid, self.reader, "opened", {"version": current.version},
                          reading_id=current.reading_id)
        self._reading = current
        self._concordance = self._stored_concordance(current)
        self._emit_all()
        return current

    def close_study(self) -> None:
        """Save pending text and forget the open study (undo history included)."""
        self.flush_text()
        self.undo_stack.clear()
        self._reading = None
        self._images = None
        self._results.clear()
        self._shown.clear()
        self._concordance = None

    def close(self) -> None:
        self.close_study()
        self.store.close()

    def _emit_all(self) -> None:
        self.reading_changed.emit(self._reading)
        self.concordance_changed.emit(self._concordance)
        self.ai_visibility_changed.emit()

    # -- AI results ----------------------------------------------------------------------

    def add_result(self, result: AnalysisResult) -> bool:
        """Keep a model's result if it belongs to the open study; True when it does.

        Shown results are audited once ("ai_shown"); after the reveal the concordance
        is recomputed with it.
        """
        images = self._images
        if images is None or result.sop_instance_uid not in images.sop_uids:
            return False
        if not result.applicable or result.reason:
            return True
        self._results[(result.sop_instance_uid, result.frame, result.model_id)] = result
        if self._reading is not None and not self.ai_withheld:
            self._audit_shown([result])
            self._update_concordance()
        return True

    def _audit_shown(self, results: Sequence[AnalysisResult]) -> None:
        reading, uid = self._reading, self.study_uid
        if reading is None or uid is None:
            return
        for r in results:
            key = (r.sha256, r.sop_instance_uid, r.frame)
            if key in self._shown:
                continue
            self._shown.add(key)
            self.store.record(uid, self.reader, "ai_shown",
                              {"model_id": r.model_id, "model_version": r.model_version,
                               "sha256": r.sha256, "sop_instance_uid": r.sop_instance_uid,
                               "frame": r.frame}, reading_id=reading.reading_id)

    def _compute_concordance(self, reading: Reading) -> Concordance | None:
        if not self._results or self._images is None:
            return None
        return compare(reading, self.results, mm_per_px=self._images.mm_per_px,
                       laterality=self._images.laterality)

    def _update_concordance(self) -> None:
        reading = self._reading
        if reading is None or self.ai_withheld:
            return
        self._concordance = (self._stored_concordance(reading) if reading.signed
                             else self._compute_concordance(reading))
        if reading.signed and self._concordance is None:
            self._concordance = self._compute_concordance(reading)
        self.concordance_changed.emit(self._concordance)

    def _stored_concordance(self, reading: Reading) -> Concordance | None:
        if not reading.signed:
            return None
        data = self.store.concordance(reading.reading_id)
        return Concordance.from_dict(data) if data is not None else None

    # -- edits (each one undoable and saved at once) -------------------------------------

    def commit(self, reading: Reading, action: str, detail: Mapping[str, Any]) -> None:
        """Save ``reading`` (the draft) with its audit event; called by the commands."""
        self._reading = self.store.save(reading, action, detail)
        self.reading_changed.emit(self._reading)
        self._update_concordance()

    def _push(self, command: commands.ReadingCommand) -> bool:
        if not self.editable:
            return False
        self.undo_stack.push(command)
        return True

    def add_mark(self, sop_instance_uid: str, frame: int, shape: MarkShape,
                 points: Sequence[Point], label: str,
                 confidence: str | None = None) -> Mark | None:
        """Add a mark; None when the reading is signed (read-only) or none is open."""
        reading = self._reading
        if reading is None or not self.editable:
            return None
        mark = Mark(uuid.uuid4().hex, sop_instance_uid, int(frame), shape,
                    tuple((float(x), float(y)) for x, y in points), label, confidence)
        Reading.from_dict({**reading.to_dict(), "marks": [mark.to_dict()]})  # validate
        self._push(commands.AddMark(self, mark, _tr("Add mark")))
        return mark

    def move_mark(self, mark_id: str, dx: float, dy: float) -> bool:
        if self._reading is None or self._reading.mark(mark_id) is None or (dx, dy) == (0, 0):
            return False
        return self._push(commands.MoveMark(self, mark_id, float(dx), float(dy),
                                            _tr("Move mark")))

    def delete_mark(self, mark_id: str) -> bool:
        reading = self._reading
        mark = reading.mark(mark_id) if reading is not None else None
        if reading is None or mark is None:
            return False
        return self._push(commands.DeleteMark(self, mark, reading.marks.index(mark),
                                              _tr("Delete mark")))

    def relabel(self, mark_id: str, label: str) -> bool:
        reading = self._reading
        mark = reading.mark(mark_id) if reading is not None else None
        if reading is None or mark is None or mark.label == label \
                or label not in MARK_LABELS[reading.kind]:
            return False
        return self._push(commands.ChangeMark(self, mark, "label", label, _tr("Relabel mark")))

    def set_confidence(self, mark_id: str, confidence: str | None) -> bool:
        mark = self._reading.mark(mark_id) if self._reading is not None else None
        if mark is None or mark.confidence == confidence:
            return False
        return self._push(commands.ChangeMark(self, mark, "confidence", confidence,
                                              _tr("Change confidence")))

    def set_assessment(self, assessment: Assessment) -> bool:
        reading = self._reading
        if reading is None or reading.assessment == assessment:
            return False
        return self._push(commands.SetAssessment(self, reading.assessment, assessment,
                                                 _tr("Change assessment")))

    def set_text(self, text: str) -> None:
        """Free text: saved 1 s after the last keystroke (and on sign, close, study change)."""
        if not self.editable:
            return
        self._pending_text = text
        self._text_timer.start()

    def flush_text(self) -> None:
        self._text_timer.stop()
        text, self._pending_text = self._pending_text, None
        reading = self._reading
        if text is None or reading is None or text == reading.text:
            return
        self._push(commands.SetText(self, reading.text, text, _tr("Edit text")))

    def decide(self, finding_key: str, decision: Decision, reason: str = "") -> bool:
        """Accept or dismiss an AI finding (only once the AI is shown)."""
        reading = self._reading
        if reading is None or self.ai_withheld:
            return False
        new = AiDecision(finding_key, decision, reason.strip())
        old = reading.decision_for(finding_key)
        if old == new:
            return False
        return self._push(commands.Decide(self, old, new, _tr("Decide on AI finding")))

    # -- sign-off and amendment ----------------------------------------------------------

    def sign(self) -> Reading | None:
        """Sign the open draft. A blinded first read then reveals the AI (final draft)."""
        self.flush_text()
        reading, uid = self._reading, self.study_uid
        if reading is None or uid is None or reading.signed:
            return None
        withheld = self.ai_withheld
        signed = self.store.sign(reading.reading_id)
        self.undo_stack.clear()  # a signed version is never edited again
        if withheld:
            self.store.record(uid, self.reader, "ai_revealed",
                              {"results": len(self._results)}, reading_id=signed.reading_id)
            self._reading = signed
            self._audit_shown(self.results)
            self._reading = self.store.follow_up(signed.reading_id, "final")
            self._concordance = self._compute_concordance(self._reading)
            self.reading_changed.emit(self._reading)
            self.ai_visibility_changed.emit()
            self.revealed.emit()
            self.concordance_changed.emit(self._concordance)
            return signed
        self._reading = signed
        self._concordance = self._compute_concordance(signed)
        if self._concordance is not None:
            self.store.save_concordance(signed.reading_id, self._concordance.to_dict())
        self.reading_changed.emit(signed)
        self.concordance_changed.emit(self._concordance)
        return signed

    def amend(self) -> Reading | None:
        """A new draft correcting the signed reading (it points to it)."""
        reading = self._reading
        if reading is None or not reading.signed:
            return None
        self._reading = self.store.follow_up(reading.reading_id, "amendment")
        self.undo_stack.clear()
        self.reading_changed.emit(self._reading)
        self._update_concordance()
        return self._reading



def export_reading(db: StudyDatabase, reading: Reading, results: Sequence[AnalysisResult],
                   concordance: Concordance | None, out_dir: Path, *, lang: str = "fr",
                   model_names: Mapping[str, str] | None = None) -> list[Path]:
    """DICOM SR (+ GSPS, CAD SR) into ``out_dir/SR``, the one-page ``out_dir/report.pdf``
    and that PDF as a DICOM Encapsulated PDF in ``out_dir/SR`` (what a PACS files).

    Key images as :func:`reading.report_images.report_key_images` chooses them (the same
    as ``tandem export``). Runs on a worker thread: no Qt here.
    """
    sources = source_datasets(db, reading.study_instance_uid)
    written = write_exports(reading, results, sources, out_dir / "SR", concordance=concordance)
    keys = report_key_images(study_image_infos(db, reading.study_instance_uid), reading,
                             results, lang, on_error=_log.warning)
    pdf = write_report(out_dir / "report.pdf", reading=reading, concordance=concordance,
                       results=results, key_images=keys, patient=patient_block(sources), lang=lang,
                       model_names=model_names)
    pdf_dicom = write_encapsulated_pdf(pdf, reading, sources,
                                       out_dir / "SR" / f"PDF_report_v{reading.version}.dcm",
                                       title=report_text("title", lang))
    return [*written, pdf, pdf_dicom]
