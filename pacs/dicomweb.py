"""DICOMweb (QIDO-RS, WADO-RS, STOW-RS) to a configured node: the second transport beside DIMSE.

Same values in and out as :mod:`pacs.dimse` (:class:`FindQuery` → :class:`FindMatch`,
:class:`RetrieveResult`, :class:`StoreOutcome`), so callers do not care which transport answered.
Requests go through dicomweb-client with a connect and a read timeout on every request and no
automatic retry (a dead PACS fails fast). Failures raise :class:`PacsError` naming the node and the
reason; messages never carry the request's query string (it holds patient names and IDs).
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmread, dcmwrite
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from imaging.db import StudyDatabase
from pacs.dimse import (
    CancelFlag,
    FindMatch,
    FindQuery,
    Level,
    ProgressCallback,
    RetrieveResult,
    StoreOutcome,
    build_find_identifier,
    match_from_dataset,
)
from pacs.errors import PacsError
from pacs.nodes import PacsNode
from pacs.receiver import Receiver
from pacs.timeouts import DEFAULT_TIMEOUTS, Timeouts

# Every transfer syntax the PACS holds: instances arrive as stored, never transcoded.
AS_STORED = (("application/dicom", "*"),)
STOW_BATCH_FILES = 50
STOW_BATCH_BYTES = 64 * 1024 * 1024
_NO_FILTER = FindQuery()
_NODE_ERRORS = (401, 403, 404, 405)
_PATIENT_FIELDS = ("PatientID", "PatientName", "PatientBirthDate", "PatientSex")


class _WildcardSession(requests.Session):
    """Sends QIDO wildcards ``*`` and ``?`` literally instead of percent-encoded.

    Both are legal in a URL query (RFC 3986), so a conformant server reads them the same, but
    some servers (Orthanc 1.10 with its DICOMweb plugin 1.7) do not decode ``%2A``/``%3F`` and
    then match the literal text: ``PatientName=DOE%2A`` finds nobody there.
    """

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        if "?" in url:
            base, _, query = url.partition("?")
            query = query.replace("%2A", "*").replace("%3F", "?")
            request.url = f"{base}?{query}"
        return super().send(request, **kwargs)


def _base_url(node: PacsNode) -> str:
    if not node.dicomweb_url:
        raise PacsError(f"PACS {node.describe()}: no DICOMweb URL configured (set one with "
                        f"'tandem pacs add {node.name} ... --dicomweb URL --replace')")
    return node.dicomweb_url.rstrip("/")


def _client(node: PacsNode, timeouts: Timeouts) -> DICOMwebClient:
    client = DICOMwebClient(_base_url(node), session=_WildcardSession(),
                            timeout=(timeouts.connect_s, timeouts.network_s))
    client.set_http_retry_params(retry=False)
    return client


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what caused it, and so on (urllib3 keeps its cause in ``reason``)."""
    seen: BaseException | None = exc
    for _ in range(12):
        if seen is None:
            return
        yield seen
        reason = getattr(seen, "reason", None)
        seen = (reason if isinstance(reason, BaseException)
                else seen.__cause__ or seen.__context__)


@contextmanager
def _http_errors(node: PacsNode, what: str, timeouts: Timeouts) -> Iterator[None]:
    """Turn a requests/HTTP failure of ``what`` into one PacsError sentence naming the node."""
    where = f"PACS {node.describe()} DICOMweb {node.dicomweb_url}"
    try:
        yield
    except requests.HTTPError as exc:
        response = exc.response
        code = response.status_code if response is not None else "?"
        reason = response.reason if response is not None else ""
        hint = {401: " (authentication required)", 403: " (access refused)",
                404: " (not found on the PACS)"}.get(code if isinstance(code, int) else 0, "")
        raise PacsError(f"{where}: {what} failed: HTTP {code} {reason}{hint}".rstrip()) from None
    except requests.ConnectTimeout:
        raise PacsError(f"{where}: {what}: no answer within {timeouts.connect_s:g} s "
                        "(host down or firewalled)") from None
    except requests.Timeout:
        raise PacsError(f"{where}: {what}: the PACS went silent for {timeouts.network_s:g} s "
                        "(timed out)") from None
    except requests.ConnectionError as exc:
        causes = list(_causes(exc))
        if any(isinstance(c, ConnectionRefusedError) for c in causes):
            reason = "connection refused (no web service on that port)"
        elif any(isinstance(c, socket.gaierror) for c in causes):
            reason = "unknown host"
        else:
            reason = f"connection failed ({type(causes[-1]).__name__})"
        raise PacsError(f"{where}: {what}: {reason}") from None
    except (requests.RequestException, ValueError, KeyError, InvalidDicomError) as exc:
        raise PacsError(f"{where}: {what}: malformed answer ({type(exc).__name__})") from None


# -- QIDO-RS ---------------------------------------------------------------------------------

def qido_find(node: PacsNode, level: Level, query: FindQuery = _NO_FILTER, *,
              timeouts: Timeouts = DEFAULT_TIMEOUTS, limit: int = 1000) -> list[FindMatch]:
    """QIDO-RS search with the filters and answers of :func:`pacs.dimse.find`.

    The filters are those of the C-FIND identifier (same validation, same wildcards and date
    ranges; a ``^`` in the patient name is sent as the one-character wildcard ``?``). QIDO-RS
    has no patient resource: PATIENT matches are the studies found with the patient filters,
    grouped by Patient ID (``studies`` counts them among the first ``limit`` studies).
    """
    identifier = build_find_identifier(level, query)
    filters = {e.keyword: str(e.value) for e in identifier
               if e.keyword != "QueryRetrieveLevel" and str(e.value or "")}
    if "PatientName" in filters:
        # "^" travels as %5E, which Orthanc 1.10 (DICOMweb 1.7) does not decode; "?" (any one
        # character) still finds DOE^JOHN everywhere, and at most widens the match slightly.
        filters["PatientName"] = filters["PatientName"].replace("^", "?")
    fields = [e.keyword for e in identifier if e.keyword not in (
        "QueryRetrieveLevel", "NumberOfPatientRelatedStudies")]
    client = _client(node, timeouts)
    with _http_errors(node, f"QIDO-RS {level.lower()} search", timeouts):
        if level == "SERIES":
            answers = client.search_for_series(search_filters=filters, fields=fields,
                                               limit=limit)
        else:
            answers = client.search_for_studies(search_filters=filters, fields=fields,
                                                limit=limit)
        datasets = [Dataset.from_json(a) for a in answers]
    if level != "PATIENT":
        return [match_from_dataset(level, ds) for ds in datasets][:limit]
    patients: dict[str, tuple[Dataset, int]] = {}
    for ds in datasets:
        key = str(ds.get("PatientID", ""))
        first, count = patients.get(key, (ds, 0))
        patients[key] = (first, count + 1)
    matches = []
    for ds, count in patients.values():
        only = Dataset()
        for keyword in _PATIENT_FIELDS:
            if keyword in ds:
                setattr(only, keyword, ds.data_element(keyword).value)  # type: ignore[union-attr]
        only.NumberOfPatientRelatedStudies = count
        matches.append(match_from_dataset("PATIENT", only))
    return matches


def _study_size(client: DICOMwebClient, node: PacsNode, study_uid: str,
                timeouts: Timeouts) -> int | None:
    """Instances of the study according to QIDO-RS (None if the PACS does not say)."""
    with _http_errors(node, "QIDO-RS study search", timeouts):
        found = client.search_for_studies(search_filters={"StudyInstanceUID": study_uid},
                                          fields=["NumberOfStudyRelatedInstances"])
    if not found:
        raise PacsError(f"PACS {node.describe()}: no study {study_uid} (QIDO-RS found nothing)")
    count = Dataset.from_json(found[0]).get("NumberOfStudyRelatedInstances")
    return int(count) if count not in (None, "") else None


# -- WADO-RS ---------------------------------------------------------------------------------

def wado_retrieve_study(node: PacsNode, study_uid: str, db: StudyDatabase, *,
                        progress: ProgressCallback | None = None,
                        cancel: CancelFlag | None = None,
                        timeouts: Timeouts = DEFAULT_TIMEOUTS) -> RetrieveResult:
    """Retrieve the study's instances as stored on the PACS and file them into ``db``.

    Each instance is filed exactly like a C-STORE received one (:meth:`Receiver.file_bytes`:
    the bytes the PACS sent, checked, renamed into storage, indexed by the writer thread).
    ``progress(done, total)`` after each instance (total from a QIDO-RS count); ``cancel`` is
    checked between instances and closes the connection. In the result, ``status`` is the HTTP
    status, ``completed`` the instances the PACS sent and ``failed`` those QIDO-RS announced
    but WADO-RS did not deliver.
    """
    started = time.monotonic()
    client = _client(node, timeouts)
    total = _study_size(client, node, study_uid, timeouts)
    receiver = Receiver(db)
    receiver.start()
    completed = 0
    cancelled = cancel is not None and cancel.is_set()
    try:
        with _http_errors(node, f"WADO-RS retrieve of study {study_uid}", timeouts):
            if not cancelled:
                instances = client.iter_study(study_uid, media_types=AS_STORED)
                try:
                    for ds in instances:
                        receiver.file_bytes(_part_bytes(ds), str(ds.get("SOPInstanceUID", "")))
                        completed += 1
                        if progress is not None:
                            progress(completed, total)
                        if cancel is not None and cancel.is_set():
                            cancelled = True
                            break
                finally:
                    close = getattr(instances, "close", None)  # a generator: closing it ends
                    if close is not None:  # the HTTP response, so the PACS stops sending
                        close()
    finally:
        receiver.stop()
    stats = receiver.stats()
    failed = 0 if cancelled or total is None else max(0, total - completed)
    return RetrieveResult("wado", study_uid, completed, failed, 0, cancelled,
                          0 if cancelled and not completed else 200, time.monotonic() - started,
                          stats.indexed, stats.refused)


def _part_bytes(ds: Dataset) -> bytes:
    """The bytes of the multipart part dicomweb-client parsed (as sent, not re-encoded)."""
    buffer = getattr(ds, "buffer", None)
    if isinstance(buffer, BytesIO):
        return buffer.getvalue()
    out = BytesIO()  # older pydicom: no buffer kept, write the dataset back
    dcmwrite(out, ds, enforce_file_format=True)
    return out.getvalue()


# -- STOW-RS ---------------------------------------------------------------------------------

def stow_store(node: PacsNode, paths: Sequence[Path | str], *,
               progress: ProgressCallback | None = None, cancel: CancelFlag | None = None,
               timeouts: Timeouts = DEFAULT_TIMEOUTS) -> list[StoreOutcome]:
    """Send files byte for byte (STOW-RS, in batches); one outcome per file.

    Unreadable files and files without File Meta get a failed outcome and the others are still
    sent; the PACS's answer (Referenced / Failed SOP Sequence) decides each file's outcome.
    Connection failures raise :class:`PacsError`.
    """
    base_url = _base_url(node)
    session = requests.Session()
    outcomes: dict[Path, StoreOutcome] = {}
    readable: list[tuple[Path, str, int]] = []  # (path, SOP Instance UID, size)
    for raw in paths:
        path = Path(raw)
        try:
            meta = dcmread(path, stop_before_pixels=True)
            sop = str(meta.SOPInstanceUID)
            str(meta.file_meta.TransferSyntaxUID)
            readable.append((path, sop, path.stat().st_size))
        except (OSError, InvalidDicomError, AttributeError, ValueError, EOFError) as exc:
            reason = ("no SOP Instance UID or File Meta (transfer syntax unknown)"
                      if isinstance(exc, AttributeError) else str(exc))
            outcomes[path] = StoreOutcome(path, False, "", None, f"{path}: cannot send: {reason}")
    done = 0
    for batch in _batches(readable):
        if cancel is not None and cancel.is_set():
            break
        answered = _stow_batch(session, base_url, node, batch, timeouts)
        unsure = [item for item in batch if item[0] in answered and answered[item[0]].status is None
                  and not answered[item[0]].ok]
        if len(batch) > 1 and unsure:  # one bad part may fail a whole request: say which
            for item in unsure:
                answered.update(_stow_batch(session, base_url, node, [item], timeouts))
        outcomes.update(answered)
        done += len(batch)
        if progress is not None:
            progress(done, len(readable))
    return [outcomes[Path(p)] for p in paths if Path(p) in outcomes]


def _batches(files: list[tuple[Path, str, int]]) -> Iterator[list[tuple[Path, str, int]]]:
    """Batches of a bounded size, a SOP Instance UID at most once per batch (the answer is
    per SOP Instance UID)."""
    batch: list[tuple[Path, str, int]] = []
    sops: set[str] = set()
    size = 0
    for item in files:
        if batch and (len(batch) >= STOW_BATCH_FILES or size + item[2] > STOW_BATCH_BYTES
                      or item[1] in sops):
            yield batch
            batch, sops, size = [], set(), 0
        batch.append(item)
        sops.add(item[1])
        size += item[2]
    if batch:
        yield batch


def _stow_batch(session: requests.Session, base_url: str, node: PacsNode,
                batch: list[tuple[Path, str, int]], timeouts: Timeouts) -> dict[Path, StoreOutcome]:
    """POST one multipart/related request; map the PACS's answer back to the files.

    dicomweb-client's ``store_instances`` re-encodes datasets with pydicom (8 of the corpus'
    127 readable files change bytes that way), so the files are posted as they are on disk.
    """
    outcomes: dict[Path, StoreOutcome] = {}
    parts: list[bytes] = []
    sent: list[tuple[Path, str]] = []
    for path, sop, _size in batch:
        try:
            parts.append(path.read_bytes())
            sent.append((path, sop))
        except OSError as exc:
            outcomes[path] = StoreOutcome(path, False, sop, None, f"{path}: cannot send: {exc}")
    if not sent:
        return outcomes
    boundary = uuid.uuid4().hex
    body = b"".join(b"--%s\r\nContent-Type: application/dicom\r\n\r\n%s\r\n"
                    % (boundary.encode(), data) for data in parts)
    body += b"--%s--\r\n" % boundary.encode()
    content_type = f'multipart/related; type="application/dicom"; boundary={boundary}'
    answer = Dataset()
    http_failure = ""
    with _http_errors(node, "STOW-RS", timeouts):
        response = session.post(
            f"{base_url}/studies", data=body, timeout=(timeouts.connect_s, timeouts.network_s),
            headers={"Content-Type": content_type,
                     "Accept": "application/dicom+json, application/json"})
        if response.content:
            try:
                answer = Dataset.from_json(response.json())
            except ValueError:
                answer = Dataset()
        if response.status_code in _NODE_ERRORS:  # the service, not this content, is the problem
            response.raise_for_status()
        if response.status_code >= 400:
            http_failure = f"HTTP {response.status_code} {response.reason}"
    failed = {str(i.get("ReferencedSOPInstanceUID", "")): i
              for i in answer.get("FailedSOPSequence", [])}
    stored = {str(i.get("ReferencedSOPInstanceUID", "")): i
              for i in answer.get("ReferencedSOPSequence", [])}
    for path, sop in sent:
        if sop in stored:
            warning = stored[sop].get("WarningReason")
            outcomes[path] = StoreOutcome(path, True, sop, int(warning) if warning else 0,
                                          "stored (warning)" if warning else "stored")
        elif sop in failed:
            code = failed[sop].get("FailureReason")
            status = int(code) if code not in (None, "") else None
            detail = (f"STOW-RS failure reason 0x{status:04X}" if status is not None
                      else http_failure)
            outcomes[path] = StoreOutcome(path, False, sop, status,
                                          f"{path}: PACS {node.describe()} refused it ({detail})")
        elif http_failure:
            outcomes[path] = StoreOutcome(path, False, sop, None,
                                          f"{path}: PACS {node.describe()} refused it "
                                          f"({http_failure}, no reason given)")
        else:
            outcomes[path] = StoreOutcome(path, False, sop, None,
                                          f"{path}: PACS {node.describe()} did not confirm it "
                                          "(not in the STOW-RS answer)")
    return outcomes
