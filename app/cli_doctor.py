"""``tandem doctor``: versions, GPU, data folder, database health, model checksums, PACS, logs.

What the practice's IT person runs (or sends us) when something is wrong. Exit status 0
when healthy, 1 with the problems listed. ``--self-test`` also runs each model on its
bundled sample, as the first-run window does.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any

from app.cli import print_json
from app.diagnostics import DoctorReport, gather, run_self_test


def add_doctor_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_doctor = sub.add_parser("doctor", help="check this installation (versions, GPU, "
                              "database, model checksums, PACS, logs)")
    p_doctor.add_argument("--json", action="store_true", help="print JSON")
    p_doctor.add_argument("--models-dir", type=Path, help="also look for models here (first)")
    p_doctor.add_argument("--self-test", action="store_true",
                          help="also run each model on its bundled sample image")


def run_doctor(opts: argparse.Namespace) -> int:
    report = gather(opts.models_dir)
    tests = []
    if opts.self_test:
        from app.cli_models import model_registry

        tests = run_self_test(model_registry(opts.models_dir))
        report.problems.extend(f"self-test {t.model_id}: {t.message}" for t in tests if not t.ok)
    if opts.json:
        data = report.to_dict()
        if opts.self_test:
            data["self_test"] = [asdict(t) for t in tests]
        print_json(data)
    else:
        _print_text(report)
        for t in tests:
            if t.ok:
                print(f"SELF   {t.model_id}: {t.label} {t.score:.3f} on {t.provider} "
                      f"(load {t.load_ms:.0f} ms, run {t.run_ms:.0f} ms, {t.sample})")
            else:
                print(f"SELF   {t.model_id}: FAILED: {t.message}")
        print("healthy" if report.healthy else f"{len(report.problems)} problem(s):")
        for problem in report.problems:
            print(f"  ! {problem}")
    return 0 if report.healthy else 1


def _size(n: Any) -> str:
    return "?" if n is None else f"{n / (1 << 30):.1f} GiB"


def _print_text(r: DoctorReport) -> None:
    print(f"Tandem     {r.tandem}")
    print(f"Python     {r.python}")
    print(f"OS         {r.os}")
    print("Libraries  " + ", ".join(f"{k} {v}" for k, v in r.libraries.items()))
    print(f"Providers  {', '.join(r.providers) or 'none'}")
    gpu = r.gpu
    smi = gpu["nvidia_smi"]
    print(f"GPU        {'; '.join(smi) if smi else 'no nvidia-smi'}; CUDA provider "
          f"{'yes' if gpu['cuda_provider'] else 'no'}, DirectML "
          f"{'yes' if gpu['directml_provider'] else 'no'}; models run on "
          f"{gpu['provider_used'] or 'nothing'}" + (f" ({gpu['notice']})" if gpu["notice"] else ""))
    d = r.data
    print(f"Data       {d['path']} ({_size(d['free_bytes'])} free"
          f"{'' if d['writable'] else ', NOT writable'})")
    db = r.database
    if not db["exists"]:
        print(f"Database   {db['path']}: not created yet")
    else:
        counts = ", ".join(f"{v} {k}" for k, v in db["counts"].items())
        audit = db["audit"]
        audit_text = "" if audit is None else (
            f"; audit {audit['events']} events, " + ("intact" if audit["intact"] else "BROKEN"))
        print(f"Database   {db['path']}: {db['quick_check'] or 'unreadable'}; {counts}{audit_text}")
    for m in r.models:
        state = "OK   " if m.usable else "ERROR"
        same = m.sha256_actual == m.sha256_expected
        print(f"Model {state} {m.id} {m.version or '?'}  sha256 "
              f"{(m.sha256_expected or '?')[:16]}… {'matches' if same else 'DIFFERS: '}"
              f"{'' if same else (m.sha256_actual or 'unreadable')[:16] + '…'}  {m.folder}")
        for problem in m.problems:
            print(f"             ! {problem}")
        site = m.site_calibration
        if site and not site["problem"]:
            print(f"             site calibration: {site['films']} films, {site['created']}")
    p = r.pacs
    if "error" in p:
        print(f"PACS       {p['config']}: {p['error']}")
    else:
        print(f"PACS       {p['local_ae_title']} on port {p['local_port']}; "
              f"{p['nodes']} node(s) {', '.join(p['node_names'])}")
    lg = r.logs
    print(f"Logs       {lg['folder']} ({lg['log_bytes']} bytes); {lg['crash_reports']} crash "
          f"report(s) in {lg['crash_folder']}")
