"""Worker bodies of the PACS screens: plain functions that :class:`app.workers.Task` runs.

Each one wraps a :mod:`pacs` call with the ``progress=`` / ``cancel=`` keywords of the task
contract, so every network round trip (echo, find, retrieve, store) runs on the thread pool and
the UI thread only shows the outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from imaging.db import StudyDatabase
from pacs import dimse
from pacs.dimse import EchoResult, FindMatch, FindQuery, RetrieveResult, StoreOutcome
from pacs.nodes import LocalAE, PacsNode
from pacs.retrieve import retrieve_study
from pacs.storage_scp import StorageServer

Progress = Callable[..., None]


def echo_node(node: PacsNode, calling_ae: str) -> EchoResult:
    """"Test connection": never raises for a network failure (the result says why)."""
    return dimse.echo(node, calling_ae=calling_ae)


def find_studies(node: PacsNode, query: FindQuery, calling_ae: str) -> list[FindMatch]:
    """STUDY-level C-FIND, newest study first."""
    matches = dimse.find(node, "STUDY", query, calling_ae=calling_ae)
    return sorted(matches, key=lambda m: (m.study_date, m.study_time), reverse=True)


def retrieve(node: PacsNode, study_uid: str, db: StudyDatabase, *,
             method: Literal["move", "get", "wado"], local: LocalAE,
             server: StorageServer | None = None, listen_host: str = "",
             progress: Progress | None = None, cancel: Any = None) -> RetrieveResult:
    """Retrieve ``study_uid`` into ``db``.

    With ``server`` (the GUI's running listener), a C-MOVE is received by it instead of a
    second server on the same port.
    """
    extra: dict[str, Any] = {"server": server} if server is not None and method == "move" \
        else {}
    return retrieve_study(node, study_uid, db, method=method, local=local, progress=progress,
                          cancel=cancel, listen_host=listen_host, **extra)


def send_files(node: PacsNode, paths: Sequence[Path], calling_ae: str, *,
               progress: Progress | None = None, cancel: Any = None) -> list[StoreOutcome]:
    """C-STORE ``paths`` as they are; one outcome per file (unreadable ones fail alone)."""
    return dimse.store(node, list(paths), calling_ae=calling_ae, progress=progress,
                       cancel=cancel)
