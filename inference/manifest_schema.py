"""Export the manifest JSON Schema: ``python -m inference.manifest_schema [--check]``.

Writes ``onnx_models/manifest.schema.json`` from :func:`inference.manifest.manifest_schema`
(editors and training scripts validate manifests with it). ``--check`` writes nothing
and exits 1 when the file is out of date.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inference.manifest import manifest_schema

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "onnx_models" / "manifest.schema.json"
EXPORT_COMMAND = "python -m inference.manifest_schema"


def schema_text() -> str:
    """The exact file content (stable key order, trailing newline)."""
    return json.dumps(manifest_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=EXPORT_COMMAND, description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the exported file differs instead of writing it")
    parser.add_argument("--output", type=Path, default=SCHEMA_PATH)
    args = parser.parse_args(argv)
    text = schema_text()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != text:
            print(f"{args.output} is out of date: run `{EXPORT_COMMAND}`", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
