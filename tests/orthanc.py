"""A real Orthanc for the PACS tests: generated config, loopback ports, started and stopped here.

``running_orthanc(folder, tandem_ae, tandem_port)`` writes ``orthanc.json`` into ``folder`` (DICOM
and HTTP on free loopback ports, storage and index inside ``folder``, no authentication, Tandem's
test AE declared as a modality so C-MOVE can target it, the DICOMweb plugin when installed),
starts ``Orthanc`` as a subprocess, waits for its REST API, and stops it on exit. A missing
Orthanc binary is a test failure, never a skip: CI must install it.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydicom
import pytest

from pacs.nodes import PacsNode

ORTHANC_AET = "ORTHANC"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
_START_TIMEOUT_S = 20.0


def dicom_files(folder: Path) -> list[Path]:
    """Every file below ``folder``, sorted (the corpus folders hold only DICOM files)."""
    return sorted(p for p in folder.rglob("*") if p.is_file())


def study_uid(path: Path) -> str:
    return str(pydicom.dcmread(path, stop_before_pixels=True).StudyInstanceUID)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Orthanc:
    folder: Path
    dicom_port: int
    http_port: int
    process: subprocess.Popen[bytes]

    @property
    def node(self) -> PacsNode:
        return PacsNode("orthanc-test", ORTHANC_AET, "127.0.0.1", self.dicom_port,
                        dicomweb_url=f"{self.url}/dicom-web")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=10) as resp:
            return bytes(resp.read())

    def get_json(self, path: str) -> Any:
        return json.loads(self.get(path))

    def upload(self, path: Path) -> str:
        """POST a DICOM file to /instances; returns Orthanc's instance id."""
        req = urllib.request.Request(self.url + "/instances", data=path.read_bytes(),
                                     headers={"Content-Type": "application/dicom"},
                                     method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            answer = json.loads(resp.read())
        assert answer["Status"] in ("Success", "AlreadyStored"), answer
        return str(answer["ID"])

    def instance_id(self, sop_instance_uid: str) -> str:
        req = urllib.request.Request(
            self.url + "/tools/lookup", data=sop_instance_uid.encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            found = [r for r in json.loads(resp.read()) if r["Type"] == "Instance"]
        assert found, f"Orthanc has no instance {sop_instance_uid}"
        return str(found[0]["ID"])

    def log(self) -> str:
        return (self.folder / "orthanc.log").read_text(errors="replace")


def write_config(folder: Path, dicom_port: int, http_port: int, tandem_ae: str,
                 tandem_port: int, extra: dict[str, Any] | None = None) -> Path:
    config: dict[str, Any] = {
        "Name": "TandemTest",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "index"),
        "StorageCompression": False,
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomServerEnabled": True,
        "DicomAet": ORTHANC_AET,
        "DicomPort": dicom_port,
        "DicomCheckCalledAet": False,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        "DicomModalities": {"tandem": [tandem_ae, "127.0.0.1", tandem_port]},
        "DicomScuTimeout": 10,
        "DicomAssociationCloseDelay": 0,
        "SaveJobs": False,
        "Plugins": [str(DICOMWEB_PLUGIN)] if DICOMWEB_PLUGIN.exists() else [],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        **(extra or {}),
    }
    path = folder / "orthanc.json"
    path.write_text(json.dumps(config, indent=2))
    return path


@contextmanager
def running_orthanc(folder: Path, tandem_ae: str, tandem_port: int,
                    extra_config: dict[str, Any] | None = None,
                    uploads: Sequence[Path] = ()) -> Iterator[Orthanc]:
    """A running Orthanc holding ``uploads``; ``extra_config`` adds or overrides
    configuration keys (e.g. TLS)."""
    binary = shutil.which("Orthanc") or shutil.which("Orthanc", path="/usr/sbin")
    if binary is None:
        pytest.fail("Orthanc is not installed: apt-get install orthanc orthanc-dicomweb")
    folder.mkdir(parents=True, exist_ok=True)
    dicom_port, http_port = free_port(), free_port()
    config = write_config(folder, dicom_port, http_port, tandem_ae, tandem_port, extra_config)
    with (folder / "orthanc.log").open("wb") as log:
        process = subprocess.Popen([binary, str(config)], stdout=log, stderr=subprocess.STDOUT)
    orthanc = Orthanc(folder, dicom_port, http_port, process)
    try:
        _wait_ready(orthanc)
        for path in uploads:
            orthanc.upload(path)
        yield orthanc
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_ready(orthanc: Orthanc) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if orthanc.process.poll() is not None:
            pytest.fail(f"Orthanc exited with code {orthanc.process.returncode}:\n"
                        f"{orthanc.log()[-3000:]}")
        try:
            orthanc.get_json("/system")
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"Orthanc did not answer on {orthanc.url} within {_START_TIMEOUT_S:g} s:\n"
                f"{orthanc.log()[-3000:]}")


def module_orthanc(tandem_ae: str, uploads: Sequence[Path]) -> Callable[..., Iterator[Orthanc]]:
    """A module-scoped ``orthanc`` fixture: one Orthanc holding ``uploads`` that knows
    Tandem as ``tandem_ae`` on the module's ``tandem_port`` (conftest)."""

    @pytest.fixture(scope="module")
    def orthanc(tmp_path_factory: pytest.TempPathFactory, tandem_port: int) -> Iterator[Orthanc]:
        with running_orthanc(tmp_path_factory.mktemp("orthanc"), tandem_ae, tandem_port,
                             uploads=uploads) as server:
            yield server

    return orthanc
