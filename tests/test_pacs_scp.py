"""Tandem's storage SCP: pushes from DCMTK's storescu are filed and indexed like an import;
refused datasets and associations cut mid-transfer leave no file and no row."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest
from conftest import DICOM_CORPUS
from orthanc import free_port
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage  # type: ignore[attr-defined]

from imaging.db import StudyDatabase
from imaging.header import read_header
from pacs.errors import PacsError
from pacs.storage_scp import StorageServer

SCP_AE = "TANDEMSCP"
CT_STUDY = sorted((DICOM_CORPUS / "dcmqi" / "ct-3slice").glob("*.dcm"))
CR_FILES = sorted((DICOM_CORPUS / "pydicom" / "dicomdirtests" / "77654033").glob("CR*/*"))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StudyDatabase]:
    with StudyDatabase(tmp_path / "data" / "studies.sqlite") as database:
        yield database


@pytest.fixture
def server(db: StudyDatabase) -> Iterator[StorageServer]:
    with StorageServer(db, ae_title=SCP_AE, port=free_port(), host="127.0.0.1") as scp:
        yield scp


def _storescu(port: int, files: list[Path]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("storescu")
    if binary is None:
        pytest.fail("DCMTK's storescu is missing: apt-get install dcmtk")
    return subprocess.run([binary, "-aet", "PUSHER", "-aec", SCP_AE, "127.0.0.1", str(port),
                           *map(str, files)], capture_output=True, text=True, timeout=30)


def _parts(db: StudyDatabase) -> list[Path]:
    return list((db.storage_dir / ".incoming").glob("*"))


def test_push_from_storescu_is_filed_like_an_import(server: StorageServer,
                                                   db: StudyDatabase) -> None:
    run = _storescu(server.port, CT_STUDY + CR_FILES)
    assert run.returncode == 0, run.stderr
    assert server.wait_idle(10)
    stats = server.stats()
    assert (stats.received, stats.indexed, stats.refused) == (6, 6, 0)
    studies = {s.study_instance_uid: s for s in db.studies()}
    assert sorted(s.instance_count for s in studies.values()) == [3, 3]
    for original in CT_STUDY + CR_FILES:
        expected = read_header(original)
        [stored] = [h for s in db.series(expected.study_instance_uid)
                    for h in db.series_headers(s.series_instance_uid)
                    if h.sop_instance_uid == expected.sop_instance_uid]
        assert stored.path.is_relative_to(db.storage_dir)
        assert (stored.rows, stored.columns, stored.image_position, stored.modality) == (
            expected.rows, expected.columns, expected.image_position, expected.modality)
        assert pydicom.dcmread(stored.path).PixelData == pydicom.dcmread(original).PixelData
    assert _parts(db) == []
    assert db.integrity_check() == "ok"


def test_a_malformed_dataset_is_refused_without_file_or_row(server: StorageServer,
                                                            db: StudyDatabase) -> None:
    refused = _storescu(server.port, [DICOM_CORPUS / "bad" / "ct_no_pixel_data.dcm"])
    assert refused.returncode != 0  # storescu saw the failure status and stopped
    assert _storescu(server.port, CR_FILES[:1]).returncode == 0
    assert server.wait_idle(10)
    stats = server.stats()
    assert (stats.received, stats.refused) == (1, 1)
    assert "without Pixel Data" in stats.issues[0].message
    assert db.counts()["instances"] == 1
    assert len([p for p in db.storage_dir.rglob("*.dcm")]) == 1
    assert _parts(db) == []


def _cut_mid_transfer(assoc: Any, keep_bytes: int) -> None:
    """Make the association's next large P-DATA PDU stop after ``keep_bytes``, then drop TCP."""
    wrapper = assoc.dul.socket
    raw: socket.socket = wrapper.socket
    forward = wrapper.send

    def send(data: bytes) -> None:
        if data[:1] == b"\x04" and len(data) > keep_bytes:
            raw.sendall(data[:keep_bytes])
            raw.shutdown(socket.SHUT_RDWR)
            wrapper.event_queue.put("Evt17")  # transport closed
            return
        forward(data)

    wrapper.send = send


def test_an_association_cut_mid_dataset_leaves_the_db_consistent(
        server: StorageServer, db: StudyDatabase) -> None:
    assert _storescu(server.port, CR_FILES[:1]).returncode == 0
    assert server.wait_idle(10)
    before = db.counts()
    ae = AE(ae_title="CUTTER")
    ae.dimse_timeout = ae.network_timeout = 3
    ae.add_requested_context(CTImageStorage, pydicom.uid.ImplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", server.port, ae_title=SCP_AE)
    assert assoc.is_established
    _cut_mid_transfer(assoc, keep_bytes=100_000)
    status = assoc.send_c_store(pydicom.dcmread(CT_STUDY[0]))
    assert not status  # no answer: the transfer never completed
    assoc.abort()
    deadline = time.monotonic() + 5
    while server.active_associations() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.wait_idle(10)
    assert server.stats().received == 1
    assert db.counts() == before
    assert db.integrity_check() == "ok"
    assert _parts(db) == []
    assert len(list(db.storage_dir.rglob("*.dcm"))) == 1
    # The server still works afterwards.
    assert _storescu(server.port, CT_STUDY).returncode == 0
    assert server.wait_idle(10)
    assert db.counts()["instances"] == 4


def test_a_port_in_use_is_a_clear_error(db: StudyDatabase, server: StorageServer) -> None:
    with pytest.raises(PacsError, match=f"port {server.port}.*already in use"):
        StorageServer(db, ae_title="OTHER", port=server.port, host="127.0.0.1").start()


def test_tandem_listen_receives_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    code = ("import argparse, sys\n"
            "from app.cli_pacs import add_pacs_parsers, run_listen\n"
            "p = argparse.ArgumentParser()\n"
            "add_pacs_parsers(p.add_subparsers(dest='command'))\n"
            f"sys.exit(run_listen(p.parse_args(['listen', '--aet', '{SCP_AE}', "
            f"'--port', '{port}'])))\n")
    env = {**os.environ, "TANDEM_DATA_DIR": str(tmp_path / "data")}
    listen = subprocess.Popen([sys.executable, "-c", code], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert "listening as TANDEMSCP" in (listen.stdout.readline() if listen.stdout else "")
        assert _storescu(port, CT_STUDY).returncode == 0
        time.sleep(1.0)
    finally:
        listen.send_signal(signal.SIGTERM)
        out, _ = listen.communicate(timeout=15)
    assert listen.returncode == 0
    assert "stopped: received 3, indexed 3, refused 0" in out
    with StudyDatabase(tmp_path / "data" / "studies.sqlite") as db:
        assert db.counts()["instances"] == 3
