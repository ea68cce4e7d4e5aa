"""PACS transfers on loopback: Tandem's pacs/ against DCMTK's command-line tools, same run.

A real Orthanc (the tests' ``tests/orthanc.py``) is started on loopback with the benchmark CT
phantom (``ct_phantom.py``, N slices of 512×512 int16, ~526 KB each) uploaded. Each operation
runs ``--repeats`` times, Tandem and its DCMTK baseline alternating, into fresh folders and
databases; the table shows median seconds, MB/s and Tandem ÷ DCMTK (above 1: Tandem slower).

What is compared with what (Tandem first, its baseline second):

- C-ECHO: ``pacs.dimse.echo`` / ``echoscu``; C-FIND study level: ``pacs.dimse.find`` / ``findscu``.
- C-STORE of the N files to DCMTK ``storescp``: ``pacs.dimse.store`` / ``storescu``.
- C-GET of the study: ``retrieve_study(method="get")``, files written *and indexed* / ``getscu``
  (files only).
- Receiving N files pushed by ``storescu``: Tandem's ``StorageServer`` (fsync, rename, indexed) /
  DCMTK ``storescp`` (files only).
- WADO-RS of the study: ``retrieve_study(method="wado")`` / Tandem's own C-GET of the same study.

Usage: ``.venv/bin/python benchmarks/bench_pacs.py [--slices 100] [--repeats 3] [--json F]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

from ct_phantom import phantom_series  # noqa: E402
from orthanc import free_port, running_orthanc  # noqa: E402

from imaging.db import StudyDatabase  # noqa: E402
from pacs import dimse  # noqa: E402
from pacs.nodes import LocalAE  # noqa: E402
from pacs.retrieve import retrieve_study  # noqa: E402
from pacs.storage_scp import StorageServer  # noqa: E402

TANDEM_AE = "TANDEMBENCH"


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _dcmtk(*args: str) -> None:
    run = subprocess.run(list(args), capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {run.stderr.strip()[-500:]}")


class Bench:
    def __init__(self, slices: int, repeats: int, work: Path) -> None:
        self.series = phantom_series(slices)["explicit_le"]
        self.files = [str(p) for p in self.series.files]
        self.megabytes = sum(p.stat().st_size for p in self.series.files) / 1e6
        self.repeats = repeats
        self.work = work
        self.rows: list[dict[str, object]] = []
        self._count = 0

    def fresh(self, name: str) -> Path:
        self._count += 1
        folder = self.work / f"{name}{self._count}"
        folder.mkdir(parents=True)
        return folder

    def compare(self, what: str, tandem: Callable[[], object], baseline: Callable[[], object],
                baseline_name: str, megabytes: float | None = None) -> None:
        t_times, b_times = [], []
        for _ in range(self.repeats):
            t_times.append(_timed(tandem))
            b_times.append(_timed(baseline))
        t, b = statistics.median(t_times), statistics.median(b_times)
        row: dict[str, object] = {"operation": what, "tandem_s": t, "baseline": baseline_name,
                                  "baseline_s": b, "ratio": t / b}
        if megabytes:
            row["tandem_MBps"], row["baseline_MBps"] = megabytes / t, megabytes / b
        self.rows.append(row)
        rates = (f"  {megabytes / t:7.1f} MB/s vs {megabytes / b:7.1f} MB/s"
                 if megabytes else "")
        print(f"{what:<34} {t:8.3f} s  {baseline_name:<24} {b:8.3f} s  ×{t / b:5.2f}{rates}",
              flush=True)


def run(slices: int, repeats: int) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="tandem-bench-pacs-") as tmp:
        work = Path(tmp)
        bench = Bench(slices, repeats, work)
        tandem_port = free_port()
        local = LocalAE(TANDEM_AE, tandem_port)
        with running_orthanc(work / "orthanc", TANDEM_AE, tandem_port) as orthanc:
            node = orthanc.node
            host, port = node.host, str(node.port)
            _dcmtk("storescu", "-aet", TANDEM_AE, "-aec", node.ae_title, host, port,
                   *bench.files)
            study = str(orthanc.get_json("/studies?expand")[0]["MainDicomTags"]
                        ["StudyInstanceUID"])
            print(f"{slices} CT slices, {bench.megabytes:.1f} MB; Orthanc on loopback; "
                  f"median of {repeats}\n", flush=True)
            bench.compare("C-ECHO", lambda: dimse.echo(node, calling_ae=TANDEM_AE),
                          lambda: _dcmtk("echoscu", "-aet", TANDEM_AE, "-aec", node.ae_title,
                                         host, port), "echoscu")
            bench.compare(
                "C-FIND study level",
                lambda: dimse.find(node, "STUDY", dimse.FindQuery(), calling_ae=TANDEM_AE),
                lambda: _dcmtk("findscu", "-S", "-aet", TANDEM_AE, "-aec", node.ae_title,
                               "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID",
                               host, port), "findscu -S")

            def tandem_get() -> None:
                with StudyDatabase(bench.fresh("get") / "studies.sqlite") as db:
                    result = retrieve_study(node, study, db, method="get", local=local)
                    assert result.received == slices, result

            bench.compare("C-GET study (files + index)", tandem_get,
                          lambda: _dcmtk("getscu", "-aet", TANDEM_AE, "-aec", node.ae_title,
                                         "-od", str(bench.fresh("getscu")), "-k",
                                         "QueryRetrieveLevel=STUDY", "-k",
                                         f"StudyInstanceUID={study}", host, port),
                          "getscu", bench.megabytes)
            if _has_dicomweb():
                def tandem_wado() -> None:
                    with StudyDatabase(bench.fresh("wado") / "studies.sqlite") as db:
                        result = retrieve_study(node, study, db, method="wado", local=local)
                        assert result.received == slices, result

                bench.compare("WADO-RS study (files + index)", tandem_wado, tandem_get,
                              "Tandem C-GET", bench.megabytes)
        def send_with(sender: Callable[[int], object]) -> Callable[[], None]:
            def send() -> None:
                port = free_port()
                scp = subprocess.Popen(["storescp", "-aet", "STORESCP", "-od",
                                        str(bench.fresh("sent")), str(port)])
                try:
                    _wait_port(port)
                    sender(port)
                finally:
                    scp.terminate()
                    scp.wait(10)
            return send

        def tandem_send(port: int) -> None:
            target = dataclasses.replace(node, ae_title="STORESCP", port=port)
            assert all(o.ok for o in dimse.store(target, bench.files, calling_ae=TANDEM_AE))

        bench.compare("C-STORE to storescp", send_with(tandem_send),
                      send_with(lambda port: _dcmtk("storescu", "-aec", "STORESCP",
                                                    "127.0.0.1", str(port), *bench.files)),
                      "storescu", bench.megabytes)

        def receive_tandem() -> None:
            port = free_port()
            with StudyDatabase(bench.fresh("scp") / "studies.sqlite") as db:
                server = StorageServer(db, ae_title=TANDEM_AE, port=port, host="127.0.0.1")
                server.start()
                try:
                    _dcmtk("storescu", "-aec", TANDEM_AE, "127.0.0.1", str(port), *bench.files)
                    server.wait_idle(120)
                finally:
                    server.stop()
                assert server.stats().indexed == slices

        def receive_storescp() -> None:
            port = free_port()
            scp = subprocess.Popen(["storescp", "-aet", TANDEM_AE, "-od",
                                    str(bench.fresh("storescp")), str(port)])
            try:
                _wait_port(port)
                _dcmtk("storescu", "-aec", TANDEM_AE, "127.0.0.1", str(port), *bench.files)
            finally:
                scp.terminate()
                scp.wait(10)

        bench.compare("receive (storescu pushes)", receive_tandem, receive_storescp,
                      "storescp", bench.megabytes)
        return bench.rows


def _wait_port(port: int, timeout: float = 10.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def _has_dicomweb() -> bool:
    try:
        import pacs.dicomweb  # noqa: F401
    except ImportError:
        return False
    return True


def _versions() -> str:
    import pydicom
    import pynetdicom

    dcmtk = subprocess.run(["storescu", "--version"], capture_output=True, text=True)
    return (f"pynetdicom {pynetdicom.__version__}, pydicom {pydicom.__version__}, "
            f"{dcmtk.stdout.splitlines()[0] if dcmtk.stdout else 'DCMTK ?'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    opts = parser.parse_args()
    for tool in ("storescu", "storescp", "getscu", "findscu", "echoscu"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: apt-get install dcmtk", file=sys.stderr)
            return 2
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.2f}; {_versions()}")
    rows = run(opts.slices, opts.repeats)
    if opts.json:
        opts.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
