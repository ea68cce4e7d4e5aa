"""Timeouts applied to every association, so an unreachable or silent peer never hangs Tandem."""

from __future__ import annotations

from dataclasses import dataclass

from pynetdicom import AE


@dataclass(frozen=True)
class Timeouts:
    connect_s: float = 5.0  # TCP connection
    acse_s: float = 10.0  # association request/release answers
    dimse_s: float = 60.0  # each DIMSE message (between two responses of a query/retrieve)
    network_s: float = 60.0  # silence on an established association


DEFAULT_TIMEOUTS = Timeouts()


def apply_timeouts(ae: AE, timeouts: Timeouts = DEFAULT_TIMEOUTS) -> None:
    ae.connection_timeout = timeouts.connect_s
    ae.acse_timeout = timeouts.acse_s
    ae.dimse_timeout = timeouts.dimse_s
    ae.network_timeout = timeouts.network_s
