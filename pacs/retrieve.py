"""Retrieve a study into the study database by C-MOVE (to Tandem's own storage SCP) or C-GET."""

from __future__ import annotations

import dataclasses
from typing import Literal

from imaging.db import StudyDatabase
from pacs.dimse import CancelFlag, ProgressCallback, RetrieveResult, retrieve_get, retrieve_move
from pacs.nodes import LocalAE, PacsNode
from pacs.storage_scp import StorageServer
from pacs.timeouts import DEFAULT_TIMEOUTS, Timeouts


def retrieve_study(node: PacsNode, study_uid: str, db: StudyDatabase, *,
                   method: Literal["move", "get"] = "move", local: LocalAE | None = None,
                   progress: ProgressCallback | None = None, cancel: CancelFlag | None = None,
                   timeouts: Timeouts = DEFAULT_TIMEOUTS, listen_host: str = "") -> RetrieveResult:
    """Bring ``study_uid`` from ``node`` into ``db``; returns once every instance is indexed.

    ``move`` listens as ``local`` for the time of the retrieve (the PACS must know that AE
    title, this host and port); ``get`` needs nothing declared but not every PACS offers it.
    """
    local = local or LocalAE()
    if method == "get":
        return retrieve_get(node, study_uid, db, calling_ae=local.ae_title, progress=progress,
                            cancel=cancel, timeouts=timeouts)
    server = StorageServer(db, ae_title=local.ae_title, port=local.port, host=listen_host)
    server.start()
    try:
        result = retrieve_move(node, study_uid, local.ae_title, calling_ae=local.ae_title,
                               progress=progress, cancel=cancel, timeouts=timeouts)
        server.wait_idle(timeouts.network_s)
    finally:
        server.stop()
    stats = server.stats()
    return dataclasses.replace(result, received=stats.indexed, refused=stats.refused)
