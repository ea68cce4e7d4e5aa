"""DICOM network operations against a configured node: C-ECHO, C-FIND, C-MOVE, C-GET, C-STORE.

Every association has timeouts (:mod:`pacs.timeouts`); failures raise :class:`PacsError` with a
sentence naming the node and the reason (connection refused, timed out, association rejected,
failure status). Retrieves report progress from the peer's pending responses and are cancelled
with a C-CANCEL when ``cancel.is_set()``.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    JPEG2000,
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)
from pynetdicom import AE, build_context, build_role, evt
from pynetdicom.association import Association
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    PatientRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from imaging.db import StudyDatabase
from pacs.errors import PacsError
from pacs.nodes import DEFAULT_AE_TITLE, PacsNode
from pacs.receiver import Receiver
from pacs.tcp import NO_DELAY_HANDLER
from pacs.timeouts import DEFAULT_TIMEOUTS, Timeouts, apply_timeouts

Level = Literal["PATIENT", "STUDY", "SERIES"]
ProgressCallback = Callable[[int, int | None], None]  # (sub-operations done, total or None)
MAX_CONTEXTS = 128  # PS3.8: presentation context IDs are odd numbers 1..255


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


_UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
_COMPRESSED = (JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLosslessSV1, JPEGLSLossless,
               JPEG2000Lossless, JPEG2000, RLELossless)
# Image classes often stored compressed on a PACS: one extra context per compressed syntax each,
# so the PACS can send them as stored instead of transcoding. The count stays under 128.
_COMPRESSED_IMAGE_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.2",  # CT
    "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT
    "1.2.840.10008.5.1.4.1.1.4",  # MR
    "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR
    "1.2.840.10008.5.1.4.1.1.1",  # CR
    "1.2.840.10008.5.1.4.1.1.1.1",  # DX for presentation
    "1.2.840.10008.5.1.4.1.1.1.2",  # MG for presentation
    "1.2.840.10008.5.1.4.1.1.13.1.3",  # breast tomosynthesis
    "1.2.840.10008.5.1.4.1.1.6.1",  # US
    "1.2.840.10008.5.1.4.1.1.3.1",  # US multi-frame
    "1.2.840.10008.5.1.4.1.1.7",  # secondary capture
    "1.2.840.10008.5.1.4.1.1.12.1",  # XA
)
# Storage classes a C-GET accepts (uncompressed; the PACS transcodes other syntaxes).
GET_STORAGE_CLASSES = (
    *_COMPRESSED_IMAGE_CLASSES,
    "1.2.840.10008.5.1.4.1.1.1.1.1",  # DX for processing
    "1.2.840.10008.5.1.4.1.1.1.2.1",  # MG for processing
    "1.2.840.10008.5.1.4.1.1.1.3",  # intra-oral X-ray
    "1.2.840.10008.5.1.4.1.1.7.2",  # multi-frame SC (grayscale byte)
    "1.2.840.10008.5.1.4.1.1.7.3",  # multi-frame SC (grayscale word)
    "1.2.840.10008.5.1.4.1.1.7.4",  # multi-frame SC (true colour)
    "1.2.840.10008.5.1.4.1.1.12.2",  # RF
    "1.2.840.10008.5.1.4.1.1.20",  # NM
    "1.2.840.10008.5.1.4.1.1.128",  # PET
    "1.2.840.10008.5.1.4.1.1.130",  # enhanced PET
    "1.2.840.10008.5.1.4.1.1.77.1.4",  # VL photographic
    "1.2.840.10008.5.1.4.1.1.481.1",  # RT image
    "1.2.840.10008.5.1.4.1.1.66.4",  # segmentation
    "1.2.840.10008.5.1.4.1.1.11.1",  # grayscale softcopy presentation state (GSPS)
    "1.2.840.10008.5.1.4.1.1.11.2",  # colour softcopy presentation state
    "1.2.840.10008.5.1.4.1.1.88.11",  # basic text SR
    "1.2.840.10008.5.1.4.1.1.88.22",  # enhanced SR
    "1.2.840.10008.5.1.4.1.1.88.33",  # comprehensive SR
    "1.2.840.10008.5.1.4.1.1.88.34",  # comprehensive 3D SR
    "1.2.840.10008.5.1.4.1.1.88.59",  # key object selection
    "1.2.840.10008.5.1.4.1.1.88.50",  # mammography CAD SR
    "1.2.840.10008.5.1.4.1.1.88.65",  # chest CAD SR
    "1.2.840.10008.5.1.4.1.1.88.67",  # X-ray radiation dose SR
    "1.2.840.10008.5.1.4.1.1.104.1",  # encapsulated PDF
)


# -- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class EchoResult:
    ok: bool
    message: str
    ms: float


@dataclass(frozen=True)
class FindQuery:
    """C-FIND filters; empty ones match everything. Dates are YYYYMMDD; names allow ``*``."""

    patient_id: str = ""
    patient_name: str = ""
    date_from: str = ""
    date_to: str = ""
    modality: str = ""
    accession_number: str = ""
    study_instance_uid: str = ""  # required by some PACS at SERIES level


@dataclass(frozen=True)
class FindMatch:
    """One C-FIND match; fields the level does not carry stay empty (counts: None)."""

    level: str
    patient_id: str = ""
    patient_name: str = ""
    birth_date: str = ""
    sex: str = ""
    study_instance_uid: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    accession_number: str = ""
    modalities: tuple[str, ...] = ()
    series_instance_uid: str = ""
    series_number: int | None = None
    series_description: str = ""
    studies: int | None = None
    series: int | None = None
    instances: int | None = None


@dataclass(frozen=True)
class RetrieveResult:
    """Outcome of a C-MOVE or C-GET of one study, from the peer's final response."""

    method: str
    study_instance_uid: str
    completed: int
    failed: int
    warning: int
    cancelled: bool
    status: int
    elapsed_s: float
    received: int = 0  # C-GET: datasets filed into the database
    refused: int = 0  # C-GET: datasets Tandem refused (malformed)


@dataclass(frozen=True)
class StoreOutcome:
    path: Path
    ok: bool
    sop_instance_uid: str
    status: int | None
    message: str


# -- associations ----------------------------------------------------------------------------

def _new_ae(calling_ae: str, timeouts: Timeouts) -> AE:
    ae = AE(ae_title=calling_ae)
    apply_timeouts(ae, timeouts)
    return ae


def tls_context(node: PacsNode) -> ssl.SSLContext:
    """Client TLS context for ``node``: certificate and host name verified, against the node's
    CA file when it has one, else the system's store. Raises :class:`PacsError` for an
    unreadable CA file."""
    try:
        return ssl.create_default_context(cafile=node.tls_ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise PacsError(f"PACS {node.describe()}: cannot read the TLS certificate authority "
                        f"{node.tls_ca_file}: {exc}") from None


def _associate(ae: AE, node: PacsNode, *, evt_handlers: Sequence[Any] = (),
               **kwargs: Any) -> Association:
    tls_args = (tls_context(node), node.host) if node.tls else None
    assoc = ae.associate(node.host, node.port, ae_title=node.ae_title, tls_args=tls_args,
                         evt_handlers=[NO_DELAY_HANDLER, *evt_handlers], **kwargs)
    if assoc.is_established:
        return assoc
    if assoc.is_rejected:
        raise PacsError(f"PACS {node.describe()}: association rejected "
                        f"(is Tandem's AE title {ae.ae_title} declared on the PACS, and is "
                        f"{node.ae_title} its AE title?)")
    raise PacsError(f"PACS {node.describe()}: {_unreachable_reason(node, ae.connection_timeout)}")


def _unreachable_reason(node: PacsNode, timeout: float | None) -> str:
    """Why no association was made: probe the TCP port to name the cause."""
    try:
        with socket.create_connection((node.host, node.port), timeout=timeout or 5.0) as sock:
            if node.tls:
                with tls_context(node).wrap_socket(sock, server_hostname=node.host):
                    pass
            return ("the port accepts connections but no DICOM association was made" +
                    ("" if node.tls else " (does the PACS expect TLS on that port?)"))
    except ssl.SSLCertVerificationError as exc:
        return (f"TLS: the PACS certificate is not trusted ({exc.verify_message}); give the "
                "practice's certificate authority file")
    except ssl.SSLError as exc:
        return f"TLS handshake failed ({exc.reason or exc}); is TLS on at the PACS too?"
    except socket.gaierror:
        return f"unknown host {node.host!r}"
    except ConnectionRefusedError:
        return "connection refused (no DICOM service on that port)"
    except TimeoutError:
        return f"no answer within {timeout or 5.0:g} s (host down or firewalled)"
    except OSError as exc:
        return exc.strerror or str(exc)


def _check_status(node: PacsNode, what: str, status: Dataset | None) -> int:
    if status is None or "Status" not in status:
        raise PacsError(f"PACS {node.describe()}: no answer to {what} (timed out or aborted)")
    return int(status.Status)


# -- C-ECHO ----------------------------------------------------------------------------------

def echo(node: PacsNode, *, calling_ae: str = DEFAULT_AE_TITLE,
         timeouts: Timeouts = DEFAULT_TIMEOUTS) -> EchoResult:
    """"Test connection": associate, C-ECHO, release. Never raises for network failures."""
    started = time.perf_counter()
    ae = _new_ae(calling_ae, timeouts)
    ae.add_requested_context(Verification)

    def ms() -> float:
        return round((time.perf_counter() - started) * 1000, 1)

    try:
        assoc = _associate(ae, node)
    except PacsError as exc:
        return EchoResult(False, exc.message, ms())
    try:
        status = assoc.send_c_echo()
        code = _check_status(node, "C-ECHO", status)
    except PacsError as exc:
        return EchoResult(False, exc.message, ms())
    finally:
        assoc.release()
    if code != 0:
        return EchoResult(False, f"PACS {node.describe()}: C-ECHO status 0x{code:04X}", ms())
    return EchoResult(True, f"PACS {node.describe()}: C-ECHO ok", ms())


# -- C-FIND ----------------------------------------------------------------------------------

_RETURN_KEYS: dict[str, tuple[str, ...]] = {
    "PATIENT": ("PatientID", "PatientName", "PatientBirthDate", "PatientSex",
                "NumberOfPatientRelatedStudies"),
    "STUDY": ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
              "StudyDate", "StudyTime", "StudyDescription", "AccessionNumber",
              "ModalitiesInStudy", "NumberOfStudyRelatedSeries",
              "NumberOfStudyRelatedInstances"),
    "SERIES": ("StudyInstanceUID", "SeriesInstanceUID", "Modality", "SeriesNumber",
               "SeriesDescription", "NumberOfSeriesRelatedInstances"),
}


def build_find_identifier(level: Level, query: FindQuery) -> Dataset:
    """The C-FIND identifier: the return keys of ``level`` with the filters filled in."""
    if level not in _RETURN_KEYS:
        raise ValueError(f"unknown query level {level!r} (PATIENT, STUDY or SERIES)")
    study_only = {"date": bool(query.date_from or query.date_to),
                  "accession": bool(query.accession_number)}
    if level == "PATIENT" and (any(study_only.values()) or query.modality):
        raise ValueError("date, modality and accession filters need the STUDY or SERIES level")
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword in _RETURN_KEYS[level]:
        setattr(ds, keyword, "")
    if level != "SERIES":
        ds.PatientID = query.patient_id
        ds.PatientName = query.patient_name
    else:
        ds.StudyInstanceUID = query.study_instance_uid
        ds.Modality = query.modality
        if query.patient_id or query.patient_name or any(study_only.values()):
            ds.PatientID = query.patient_id
            ds.PatientName = query.patient_name
            ds.StudyDate = _date_range(query)
            ds.AccessionNumber = query.accession_number
    if level == "STUDY":
        ds.StudyInstanceUID = query.study_instance_uid
        ds.StudyDate = _date_range(query)
        ds.AccessionNumber = query.accession_number
        ds.ModalitiesInStudy = query.modality
    return ds


def _date_range(query: FindQuery) -> str:
    for value in (query.date_from, query.date_to):
        if value and not (len(value) == 8 and value.isdigit()):
            raise ValueError(f"date {value!r} is not YYYYMMDD")
    if query.date_from and query.date_from == query.date_to:
        return query.date_from
    if query.date_from or query.date_to:
        return f"{query.date_from}-{query.date_to}"
    return ""


def find(node: PacsNode, level: Level, query: FindQuery = FindQuery(), *,
         calling_ae: str = DEFAULT_AE_TITLE, timeouts: Timeouts = DEFAULT_TIMEOUTS,
         limit: int = 1000) -> list[FindMatch]:
    """C-FIND at ``level``; at most ``limit`` matches (then the query is cancelled)."""
    identifier = build_find_identifier(level, query)
    model = (PatientRootQueryRetrieveInformationModelFind if level == "PATIENT"
             else StudyRootQueryRetrieveInformationModelFind)
    ae = _new_ae(calling_ae, timeouts)
    ae.add_requested_context(model)
    assoc = _associate(ae, node)
    matches: list[FindMatch] = []
    try:
        for status, ds in assoc.send_c_find(identifier, model, msg_id=1):
            code = _check_status(node, "C-FIND", status)
            if code in (0xFF00, 0xFF01) and ds is not None:
                matches.append(match_from_dataset(level, ds))
                if len(matches) >= limit:
                    assoc.send_c_cancel(1, query_model=model)
            elif code not in (0x0000, 0xFE00):
                raise PacsError(f"PACS {node.describe()}: C-FIND failed with status "
                                f"0x{code:04X} {_comment(status)}".rstrip())
    finally:
        assoc.release()
    return matches[:limit]


def match_from_dataset(level: str, ds: Dataset) -> FindMatch:
    def text(keyword: str) -> str:
        value = ds.get(keyword)
        return "" if value is None else str(value).strip()

    def number(keyword: str) -> int | None:
        value = text(keyword)
        try:
            return int(value) if value else None
        except ValueError:
            return None

    modalities = ds.get("ModalitiesInStudy")
    if modalities is None:
        mods: tuple[str, ...] = (text("Modality"),) if text("Modality") else ()
    elif isinstance(modalities, str):
        mods = tuple(m for m in modalities.split("\\") if m)
    else:
        mods = tuple(str(m) for m in modalities if str(m))
    return FindMatch(
        level=level, patient_id=text("PatientID"), patient_name=text("PatientName"),
        birth_date=text("PatientBirthDate"), sex=text("PatientSex"),
        study_instance_uid=text("StudyInstanceUID"), study_date=text("StudyDate"),
        study_time=text("StudyTime"), study_description=text("StudyDescription"),
        accession_number=text("AccessionNumber"), modalities=mods,
        series_instance_uid=text("SeriesInstanceUID"), series_number=number("SeriesNumber"),
        series_description=text("SeriesDescription"),
        studies=number("NumberOfPatientRelatedStudies"),
        series=number("NumberOfStudyRelatedSeries"),
        instances=number("NumberOfStudyRelatedInstances")
        if level == "STUDY" else number("NumberOfSeriesRelatedInstances"))


def _comment(status: Dataset | None) -> str:
    return str(status.get("ErrorComment", "")) if status is not None else ""


# -- C-MOVE and C-GET ------------------------------------------------------------------------

def _study_identifier(study_uid: str) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.StudyInstanceUID = study_uid
    return ds


def _follow_retrieve(node: PacsNode, assoc: Association, what: str,
                     responses: Iterator[tuple[Dataset, Dataset | None]], model: UID,
                     progress: ProgressCallback | None,
                     cancel: CancelFlag | None) -> tuple[int, int, int, int, bool]:
    """Read a C-MOVE/C-GET's responses; returns (status, completed, failed, warning, cancelled)."""
    cancelled = False
    counts = (0, 0, 0)
    code = 0
    for status, _identifier in responses:
        code = _check_status(node, what, status)
        counts = tuple(int(status.get(k, 0) or 0) for k in (  # type: ignore[assignment]
            "NumberOfCompletedSuboperations", "NumberOfFailedSuboperations",
            "NumberOfWarningSuboperations"))
        if code in (0xFF00, 0xFF01):
            remaining = status.get("NumberOfRemainingSuboperations")
            if progress is not None:
                done = sum(counts)
                progress(done, done + int(remaining) if remaining is not None else None)
            if cancel is not None and cancel.is_set() and not cancelled:
                assoc.send_c_cancel(1, query_model=model)
                cancelled = True
        elif code == 0xFE00:
            cancelled = True
        elif code not in (0x0000, 0xB000):
            raise PacsError(f"PACS {node.describe()}: {what} failed with status 0x{code:04X} "
                            f"{_comment(status)}".rstrip())
    return code, *counts, cancelled


def retrieve_move(node: PacsNode, study_uid: str, dest_ae: str, *,
                  calling_ae: str = DEFAULT_AE_TITLE, progress: ProgressCallback | None = None,
                  cancel: CancelFlag | None = None,
                  timeouts: Timeouts = DEFAULT_TIMEOUTS) -> RetrieveResult:
    """Ask ``node`` to send the study to ``dest_ae`` (C-MOVE); returns when the PACS is done.

    The destination must be running (Tandem's: :class:`pacs.storage_scp.StorageServer`) and be
    declared on the PACS under ``dest_ae``.
    """
    started = time.monotonic()
    model = StudyRootQueryRetrieveInformationModelMove
    ae = _new_ae(calling_ae, timeouts)
    ae.add_requested_context(model)
    assoc = _associate(ae, node)
    try:
        responses = assoc.send_c_move(_study_identifier(study_uid), dest_ae, model, msg_id=1)
        code, completed, failed, warning, cancelled = _follow_retrieve(
            node, assoc, "C-MOVE", responses, model, progress, cancel)
    except PacsError as exc:
        # PACS answer an unknown destination with 0xA801 or a bare failure (Orthanc: 0xC000).
        raise PacsError(f"{exc.message} (moving to {dest_ae}: is that AE title declared on "
                        "the PACS with this computer's address and port?)") from None
    finally:
        assoc.release()
    return RetrieveResult("move", study_uid, completed, failed, warning, cancelled, code,
                          time.monotonic() - started)


def get_contexts() -> list[Any]:
    """The presentation contexts a C-GET proposes (Get model + storage with SCP role)."""
    contexts = [build_context(StudyRootQueryRetrieveInformationModelGet)]
    contexts += [build_context(uid, list(_UNCOMPRESSED)) for uid in GET_STORAGE_CLASSES]
    contexts += [build_context(uid, [ts]) for uid in _COMPRESSED_IMAGE_CLASSES
                 for ts in _COMPRESSED]
    assert len(contexts) <= MAX_CONTEXTS
    return contexts


def retrieve_get(node: PacsNode, study_uid: str, db: StudyDatabase, *,
                 calling_ae: str = DEFAULT_AE_TITLE, progress: ProgressCallback | None = None,
                 cancel: CancelFlag | None = None,
                 timeouts: Timeouts = DEFAULT_TIMEOUTS) -> RetrieveResult:
    """Retrieve the study over the same association (C-GET) and file it into ``db``."""
    started = time.monotonic()
    model = StudyRootQueryRetrieveInformationModelGet
    ae = _new_ae(calling_ae, timeouts)
    ae.requested_contexts = get_contexts()
    roles = [build_role(uid, scp_role=True) for uid in GET_STORAGE_CLASSES]
    receiver = Receiver(db)
    receiver.start()
    try:
        assoc = _associate(ae, node, ext_neg=roles,
                           evt_handlers=[(evt.EVT_C_STORE, receiver.handle_store)])
        try:
            responses = assoc.send_c_get(_study_identifier(study_uid), model, msg_id=1)
            code, completed, failed, warning, cancelled = _follow_retrieve(
                node, assoc, "C-GET", responses, model, progress, cancel)
        finally:
            assoc.release()
    finally:
        receiver.stop()
    stats = receiver.stats()
    return RetrieveResult("get", study_uid, completed, failed, warning, cancelled, code,
                          time.monotonic() - started, stats.indexed, stats.refused)


# -- C-STORE ---------------------------------------------------------------------------------

def store(node: PacsNode, paths: Sequence[Path | str], *, calling_ae: str = DEFAULT_AE_TITLE,
          progress: ProgressCallback | None = None, cancel: CancelFlag | None = None,
          timeouts: Timeouts = DEFAULT_TIMEOUTS) -> list[StoreOutcome]:
    """Send files as they are (same transfer syntax) to ``node``; one outcome per file.

    Unreadable files get a failed outcome and the others are still sent. Association
    failures raise :class:`PacsError`.
    """
    outcomes: dict[Path, StoreOutcome] = {}
    readable: list[tuple[Path, tuple[str, str]]] = []  # (path, (SOP class, transfer syntax))
    sop_uids: dict[Path, str] = {}
    for raw in paths:
        path = Path(raw)
        try:
            meta = dcmread(path, stop_before_pixels=True)
            key = (str(meta.SOPClassUID), str(meta.file_meta.TransferSyntaxUID))
            sop_uids[path] = str(meta.SOPInstanceUID)
            readable.append((path, key))
        except (OSError, InvalidDicomError, AttributeError, ValueError, EOFError) as exc:
            reason = ("no SOP Class UID or File Meta (transfer syntax unknown)"
                      if isinstance(exc, AttributeError) else str(exc))
            outcomes[path] = StoreOutcome(path, False, "", None, f"{path}: cannot send: {reason}")
    done = 0
    for chunk in _chunks(sorted({key for _, key in readable}), MAX_CONTEXTS):
        wanted = set(chunk)
        ae = _new_ae(calling_ae, timeouts)
        ae.requested_contexts = [build_context(cls, [ts]) for cls, ts in chunk]
        assoc = _associate(ae, node)
        try:
            for path, key in readable:
                if key not in wanted:
                    continue
                if cancel is not None and cancel.is_set():
                    break
                outcomes[path] = _store_one(node, assoc, path, sop_uids[path])
                done += 1
                if progress is not None:
                    progress(done, len(readable))
        finally:
            assoc.release()
    return [outcomes[Path(p)] for p in paths if Path(p) in outcomes]


def _store_one(node: PacsNode, assoc: Association, path: Path, sop: str) -> StoreOutcome:
    """Send one file's data set bytes as they are on disk (pynetdicom streams them from the
    file: no decoding, no re-encoding, one file in memory at a time)."""
    try:
        status = assoc.send_c_store(path, msg_id=1)
    except (OSError, InvalidDicomError, ValueError, AttributeError, EOFError) as exc:
        return StoreOutcome(path, False, sop, None, f"{path}: cannot send: {exc}")
    if status is None or "Status" not in status:
        return StoreOutcome(path, False, sop, None,
                            f"{path}: no answer from PACS {node.describe()} (timed out)")
    code = int(status.Status)
    if code == 0 or code in (0xB000, 0xB007, 0xB006):
        return StoreOutcome(path, True, sop, code, "stored" if code == 0 else "stored (warning)")
    return StoreOutcome(path, False, sop, code, f"{path}: PACS {node.describe()} refused it "
                        f"(status 0x{code:04X}) {_comment(status)}".rstrip())


def _chunks(items: Sequence[tuple[str, str]], size: int) -> Iterable[list[tuple[str, str]]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])
