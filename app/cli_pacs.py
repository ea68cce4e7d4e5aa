"""``tandem pacs ...`` (nodes, echo, find, retrieve, send) and ``tandem listen`` (storage SCP).

Thin layer over :mod:`pacs`; every network or configuration failure is one line on stderr and
exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from pathlib import Path

from app.cli import print_json


def add_pacs_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``pacs`` and ``listen`` on the ``tandem`` subcommand parser."""
    p_pacs = sub.add_parser("pacs", help="PACS nodes: add, list, echo, find, retrieve, send")
    pacs_sub = p_pacs.add_subparsers(dest="pacs_command", required=True)
    p_add = pacs_sub.add_parser("add", help="declare (or with --replace, change) a PACS node")
    p_add.add_argument("name")
    p_add.add_argument("--aet", required=True, help="the node's AE title")
    p_add.add_argument("--host", required=True)
    p_add.add_argument("--port", type=int, required=True)
    p_add.add_argument("--tls", action="store_true", help="DICOM over TLS")
    p_add.add_argument("--tls-ca", metavar="PEM", type=Path,
                       help="certificate authority (or the PACS's own certificate) to trust "
                            "for TLS; default: the system's store")
    p_add.add_argument("--dicomweb", metavar="URL", help="DICOMweb root URL of the same node")
    p_add.add_argument("--replace", action="store_true", help="overwrite a node of that name")
    p_remove = pacs_sub.add_parser("remove", help="forget a PACS node")
    p_remove.add_argument("name")
    p_list = pacs_sub.add_parser("list", help="the configured nodes and Tandem's own AE")
    p_list.add_argument("--json", action="store_true", help="print JSON")
    p_local = pacs_sub.add_parser("local", help="set Tandem's own AE title and listening port")
    p_local.add_argument("--aet")
    p_local.add_argument("--port", type=int)
    p_echo = pacs_sub.add_parser("echo", help="test the connection (C-ECHO)")
    p_echo.add_argument("name")
    p_find = pacs_sub.add_parser("find", help="query the node (C-FIND, or QIDO-RS)")
    p_find.add_argument("name")
    p_find.add_argument("--level", default="STUDY", choices=["PATIENT", "STUDY", "SERIES"],
                        type=str.upper)
    p_find.add_argument("--patient-id", default="")
    p_find.add_argument("--patient-name", default="", help="wildcards allowed (DOE*)")
    p_find.add_argument("--modality", default="")
    p_find.add_argument("--accession", default="")
    p_find.add_argument("--date", default="", help="YYYYMMDD or YYYYMMDD-YYYYMMDD (open ends ok)")
    p_find.add_argument("--study", default="", help="Study Instance UID (SERIES level)")
    p_find.add_argument("--json", action="store_true", help="print JSON")
    p_find.add_argument("--dicomweb", action="store_true",
                        help="query over DICOMweb (QIDO-RS) instead of C-FIND")
    p_retrieve = pacs_sub.add_parser("retrieve", help="bring a study into the database")
    p_retrieve.add_argument("name")
    p_retrieve.add_argument("study_uid")
    p_retrieve.add_argument("--method", default="move", choices=["move", "get", "wado"],
                            help="C-MOVE to Tandem's storage SCP, C-GET, or DICOMweb WADO-RS")
    p_retrieve.add_argument("--json", action="store_true", help="print JSON")
    p_send = pacs_sub.add_parser("send", help="send DICOM files to the node (C-STORE, or STOW-RS)")
    p_send.add_argument("name")
    p_send.add_argument("paths", nargs="+", type=Path)
    p_send.add_argument("--json", action="store_true", help="print JSON")
    p_send.add_argument("--dicomweb", action="store_true",
                        help="send over DICOMweb (STOW-RS) instead of C-STORE")
    p_listen = sub.add_parser("listen", help="receive studies pushed to Tandem (storage SCP)")
    p_listen.add_argument("--aet", help="AE title (default: the configured one, TANDEM)")
    p_listen.add_argument("--port", type=int, help="port (default: the configured one, 11112)")


def run_pacs(opts: argparse.Namespace) -> int:
    from pacs.errors import PacsError

    try:
        return _PACS_COMMANDS[opts.pacs_command](opts)
    except (PacsError, ValueError) as exc:
        print(f"tandem pacs {opts.pacs_command}: {exc}", file=sys.stderr)
        return 2


def run_listen(opts: argparse.Namespace) -> int:
    from imaging.db import StudyDatabase
    from pacs.errors import PacsError
    from pacs.nodes import LocalAE, NodeStore
    from pacs.storage_scp import StorageServer

    try:
        configured = NodeStore().local()
        local = LocalAE(opts.aet or configured.ae_title, opts.port or configured.port)
        db = StudyDatabase()
        server = StorageServer(db, ae_title=local.ae_title, port=local.port)
        server.start()
    except (PacsError, ValueError) as exc:
        print(f"tandem listen: {exc}", file=sys.stderr)
        return 2
    print(f"listening as {local.ae_title} on port {local.port} (Ctrl-C stops); "
          f"database: {db.path}", flush=True)
    stop = threading.Event()
    # Ctrl-C and a service manager's SIGTERM both stop cleanly (also where SIGINT was ignored).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    shown = (0, 0, 0)
    try:
        while not stop.wait(0.5):
            stats = server.stats()
            if (stats.received, stats.indexed, stats.refused) != shown:
                shown = (stats.received, stats.indexed, stats.refused)
                print(f"received {stats.received}, indexed {stats.indexed}, "
                      f"refused {stats.refused}", flush=True)
    finally:
        server.stop()
        db.close()
    stats = server.stats()
    print(f"stopped: received {stats.received}, indexed {stats.indexed}, refused {stats.refused}")
    return 0


def _add(opts: argparse.Namespace) -> int:
    from pacs.nodes import NodeStore, PacsNode

    ca = str(opts.tls_ca.resolve()) if opts.tls_ca else None
    if ca is not None and not Path(ca).is_file():
        raise ValueError(f"certificate authority file {ca} does not exist")
    node = PacsNode(opts.name, opts.aet, opts.host, opts.port, opts.tls or ca is not None,
                    opts.dicomweb, tls_ca_file=ca)
    NodeStore().add(node, replace=opts.replace)
    print(f"added {node.describe()}")
    return 0


def _remove(opts: argparse.Namespace) -> int:
    from pacs.nodes import NodeStore

    NodeStore().remove(opts.name)
    print(f"removed {opts.name!r}")
    return 0


def _list(opts: argparse.Namespace) -> int:
    from pacs.nodes import NodeStore

    config = NodeStore().load()
    if opts.json:
        print_json({"local": dataclasses.asdict(config.local),
                    "nodes": [dataclasses.asdict(n) for n in config.nodes]})
        return 0
    print(f"Tandem: {config.local.ae_title} on port {config.local.port}")
    for n in config.nodes:
        extra = " TLS" if n.tls else ""
        extra += f" (CA {n.tls_ca_file})" if n.tls_ca_file else ""
        extra += f" DICOMweb {n.dicomweb_url}" if n.dicomweb_url else ""
        print(f"{n.name}: {n.ae_title}@{n.host}:{n.port}{extra}")
    return 0


def _local(opts: argparse.Namespace) -> int:
    from pacs.nodes import LocalAE, NodeStore

    store = NodeStore()
    current = store.local()
    local = LocalAE(opts.aet or current.ae_title, opts.port or current.port)
    store.set_local(local)
    print(f"Tandem: {local.ae_title} on port {local.port}")
    return 0


def _echo(opts: argparse.Namespace) -> int:
    from pacs.dimse import echo
    from pacs.nodes import NodeStore

    store = NodeStore()
    result = echo(store.get(opts.name), calling_ae=store.local().ae_title)
    print(f"{result.message} ({result.ms:.0f} ms)", file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 2


def _find(opts: argparse.Namespace) -> int:
    from pacs.dicomweb import qido_find
    from pacs.dimse import FindQuery, find
    from pacs.nodes import NodeStore

    date_from, _, date_to = opts.date.partition("-")
    if opts.date and "-" not in opts.date:
        date_to = date_from
    query = FindQuery(patient_id=opts.patient_id, patient_name=opts.patient_name,
                      date_from=date_from, date_to=date_to, modality=opts.modality.upper(),
                      accession_number=opts.accession, study_instance_uid=opts.study)
    store = NodeStore()
    if opts.dicomweb:
        matches = qido_find(store.get(opts.name), opts.level, query)
    else:
        matches = find(store.get(opts.name), opts.level, query,
                       calling_ae=store.local().ae_title)
    if opts.json:
        print_json([dataclasses.asdict(m) for m in matches])
        return 0
    for m in matches:
        if opts.level == "PATIENT":
            print(f"{m.patient_id}  {m.patient_name}  {m.birth_date}  studies: {m.studies}")
        elif opts.level == "STUDY":
            print(f"{m.study_date}  {m.patient_id}  {m.patient_name}  "
                  f"{','.join(m.modalities)}  {m.study_description}  "
                  f"({m.series} series, {m.instances} images)  {m.study_instance_uid}")
        else:
            print(f"{m.series_number}  {','.join(m.modalities)}  {m.series_description}  "
                  f"({m.instances} images)  {m.series_instance_uid}")
    print(f"{len(matches)} match(es)", file=sys.stderr)
    return 0


def _retrieve(opts: argparse.Namespace) -> int:
    from imaging.db import StudyDatabase
    from pacs.nodes import NodeStore
    from pacs.retrieve import retrieve_study

    store = NodeStore()
    interactive = sys.stderr.isatty()

    def progress(done: int, total: int | None) -> None:
        if interactive:
            print(f"\rretrieving {done}/{total or '?'}", end="", file=sys.stderr, flush=True)

    cancel = threading.Event()
    with StudyDatabase() as db:
        try:
            result = retrieve_study(store.get(opts.name), opts.study_uid, db,
                                    method=opts.method, local=store.local(),
                                    progress=progress, cancel=cancel)
        except KeyboardInterrupt:
            print("\ncancelled", file=sys.stderr)
            return 130
    if interactive:
        print(file=sys.stderr)
    if opts.json:
        print_json(dataclasses.asdict(result))
    else:
        print(f"{result.method}: {result.completed} sent by the PACS, {result.failed} failed, "
              f"{result.received} filed in {result.elapsed_s:.1f} s")
    return 0 if result.failed == 0 and result.received > 0 else 2


def _send(opts: argparse.Namespace) -> int:
    from pacs.dicomweb import stow_store
    from pacs.dimse import store as c_store
    from pacs.nodes import NodeStore

    nodes = NodeStore()
    if opts.dicomweb:
        outcomes = stow_store(nodes.get(opts.name), opts.paths)
    else:
        outcomes = c_store(nodes.get(opts.name), opts.paths, calling_ae=nodes.local().ae_title)
    if opts.json:
        print_json([dataclasses.asdict(o) for o in outcomes])
    else:
        for o in outcomes:
            print(f"{'OK   ' if o.ok else 'ERROR'}  {o.path}: {o.message}")
    return 0 if all(o.ok for o in outcomes) else 2


_PACS_COMMANDS = {"add": _add, "remove": _remove, "list": _list, "local": _local, "echo": _echo,
                  "find": _find, "retrieve": _retrieve, "send": _send}
