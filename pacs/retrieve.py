"""Retrieve a study into the study database by C-MOVE (to Tandem's own storage SCP), C-GET or
WADO-RS (DICOMweb)."""

from __future__ import annotations

import dataclasses
from typing import Literal

from imaging.db import StudyDatabase
from pacs.dicomweb import wado_retrieve_study
from pacs.dimse import CancelFlag, ProgressCallback, RetrieveResult, retrieve_get, retrieve_move
from pacs.nodes import LocalAE, PacsNode
from pacs.storage_scp import StorageServer
from pacs.timeouts import DEFAULT_TIMEOUTS, Timeouts

RetrieveMethod = Literal["move", "get", "wado"]


def retrieve_study(node: PacsNode, study_uid: str, db: StudyDatabase, *,
                   method: RetrieveMethod = "move", local: LocalAE | None = None,
                   progress: ProgressCallback | None = None, cancel: CancelFlag | None = None,
                   timeouts: Timeouts = DEFAULT_TIMEOUTS, listen_host: str = "",
                   server: StorageServer | None = None) -> RetrieveResult:
    """Bring ``study_uid`` from ``node`` into ``db``; returns once every instance is indexed.

    ``move`` needs a storage SCP the PACS knows (AE title, this host and port): ``server`` when
    one is already running (the GUI's listener, ``tandem listen``; it files into its own
    database), else one is started as ``local`` for the time of the retrieve. ``get`` needs
    nothing declared but not every PACS offers it; ``wado`` needs the node's DICOMweb URL.
    """
    local = local or LocalAE()
    if method == "get":
        return retrieve_get(node, study_uid, db, calling_ae=local.ae_title, progress=progress,
                            cancel=cancel, timeouts=timeouts)
    if method == "wado":
        return wado_retrieve_study(node, study_uid, db, progress=progress, cancel=cancel,
                                   timeouts=timeouts)
    if server is not None:
        return _move_through(server, node, study_uid, local, progress, cancel, timeouts)
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


def _move_through(server: StorageServer, node: PacsNode, study_uid: str, local: LocalAE,
                  progress: ProgressCallback | None, cancel: CancelFlag | None,
                  timeouts: Timeouts) -> RetrieveResult:
    """C-MOVE to a storage SCP that keeps running and may receive other studies meanwhile.

    ``received`` counts the datasets of *this study* the server acknowledged while the move
    ran (its per-study counter, read before and after). The PACS sends its final C-MOVE
    response only after every sub-operation was acknowledged, and the server acknowledges a
    dataset only once it is in storage and queued for indexing, so waiting for the server's
    writer to be idle then means they are all indexed. ``refused`` is the server's refusals
    during the move (with other senders at the same moment, theirs are counted too).
    """
    before = server.stats()
    result = retrieve_move(node, study_uid, server.ae_title, calling_ae=local.ae_title,
                           progress=progress, cancel=cancel, timeouts=timeouts)
    server.wait_idle(timeouts.network_s)
    after = server.stats()
    received = (after.received_by_study.get(study_uid, 0)
                - before.received_by_study.get(study_uid, 0))
    return dataclasses.replace(result, received=received,
                               refused=after.refused - before.refused)
