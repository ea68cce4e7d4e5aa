"""Tandem's storage SCP: receives studies pushed by modalities and PACS (C-STORE, C-ECHO).

Any storage SOP class is accepted in any transfer syntax (files are kept as sent); received
datasets are filed and indexed by a :class:`~pacs.receiver.Receiver`. Each association runs in
its own pynetdicom thread; the database is written by the receiver's single writer thread.
"""

from __future__ import annotations

import errno
from typing import Any

from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from imaging.db import StudyDatabase
from pacs.errors import PacsError
from pacs.nodes import DEFAULT_AE_TITLE, DEFAULT_PORT, validate_ae_title, validate_port
from pacs.receiver import Receiver, ReceiveStats
from pacs.tcp import NO_DELAY_HANDLER
from pacs.timeouts import apply_timeouts


class StorageServer:
    """A storage SCP listening on ``(host, port)`` as ``ae_title``; use start()/stop() or ``with``.

    ``host`` "" listens on every interface (what a modality on the network needs).
    """

    def __init__(self, db: StudyDatabase, *, ae_title: str = DEFAULT_AE_TITLE,
                 port: int = DEFAULT_PORT, host: str = "", max_associations: int = 10) -> None:
        self.ae_title = validate_ae_title(ae_title)
        self.port = validate_port(port)
        self.host = host
        self.receiver = Receiver(db)
        self._ae = AE(ae_title=self.ae_title)
        apply_timeouts(self._ae)
        self._ae.maximum_associations = max_associations
        self._ae.maximum_pdu_size = 0  # no limit: fewer, larger PDUs for big images
        for context in AllStoragePresentationContexts:
            if context.abstract_syntax is not None:
                self._ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
        self._ae.add_supported_context(Verification)
        self._server: Any = None

    def start(self) -> None:
        if self._server is not None:
            return
        self.receiver.start()
        try:
            self._server = self._ae.start_server(
                (self.host, self.port), block=False,
                evt_handlers=[(evt.EVT_C_STORE, self.receiver.handle_store),
                              NO_DELAY_HANDLER])
        except OSError as exc:
            self.receiver.stop()
            reason = ("the port is already in use" if exc.errno == errno.EADDRINUSE
                      else exc.strerror or str(exc))
            raise PacsError(f"cannot listen on port {self.port} as {self.ae_title}: {reason}") \
                from None

    def stop(self) -> None:
        """Stop accepting associations, end the open ones, then index what was received."""
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        self.receiver.stop()

    def active_associations(self) -> int:
        return len(self._server.active_associations) if self._server is not None else 0

    def wait_idle(self, timeout: float = 60.0) -> bool:
        return self.receiver.wait_idle(timeout)

    def stats(self) -> ReceiveStats:
        return self.receiver.stats()

    def __enter__(self) -> StorageServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
