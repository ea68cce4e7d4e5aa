"""PACS node configuration: validation, atomic save, add/list/remove, Tandem's own AE."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imaging import paths
from pacs.errors import NodeConfigError
from pacs.nodes import DEFAULT_AE_TITLE, DEFAULT_PORT, LocalAE, NodeStore, PacsNode


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"ae_title": "A" * 17}, "longer than 16"),
    ({"ae_title": "BAD\\AET"}, "printable ASCII"),
    ({"ae_title": "ÉCHO"}, "printable ASCII"),
    ({"ae_title": "   "}, "empty"),
    ({"port": 0}, "between 1 and 65535"),
    ({"port": 70000}, "between 1 and 65535"),
    ({"host": "bad host"}, "not a host name"),
    ({"name": ""}, "printable characters"),
    ({"dicomweb_url": "ftp://x"}, "http"),
])
def test_invalid_nodes_are_refused(kwargs: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"name": "pacs", "ae_title": "ORTHANC", "host": "pacs.local",
                                 "port": 4242, **kwargs}
    with pytest.raises(NodeConfigError, match=message):
        PacsNode(**values)


def test_nodes_round_trip_in_the_data_folder() -> None:
    store = NodeStore()
    assert store.path == paths.data_dir() / "pacs_nodes.json"
    assert store.nodes() == () and store.local() == LocalAE(DEFAULT_AE_TITLE, DEFAULT_PORT)
    main = PacsNode(" main ", " ORTHANC ", "10.0.0.5", 4242, dicomweb_url="http://10.0.0.5/dw")
    store.add(main)
    store.add(PacsNode("backup", "BACKUP", "backup.local", 104, tls=True))
    store.set_local(LocalAE("CABINET1", 11113))
    again = NodeStore()
    assert again.get("main") == main and main.name == "main" and main.ae_title == "ORTHANC"
    assert [n.name for n in again.nodes()] == ["main", "backup"]
    assert again.local() == LocalAE("CABINET1", 11113)
    with pytest.raises(NodeConfigError, match="already exists"):
        again.add(PacsNode("main", "X", "h", 1))
    again.add(PacsNode("main", "NEWAET", "h", 1), replace=True)
    assert again.get("main").ae_title == "NEWAET"
    again.remove("backup")
    with pytest.raises(NodeConfigError, match=r"no PACS node named 'backup'.*known: main"):
        again.get("backup")
    assert sorted(p.name for p in store.path.parent.iterdir()
                  if p.name.startswith(".pacs_nodes")) == []  # no temporary file left


def test_a_corrupt_or_invalid_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "pacs_nodes.json"
    path.write_text("{not json")
    with pytest.raises(NodeConfigError, match=r"pacs_nodes\.json: cannot read"):
        NodeStore(path).load()
    path.write_text(json.dumps({"nodes": [{"name": "x", "ae_title": "A" * 20, "host": "h",
                                           "port": 1}]}))
    with pytest.raises(NodeConfigError, match=r"pacs_nodes\.json: AE title"):
        NodeStore(path).load()
    path.write_text(json.dumps({"nodes": [{"name": "x", "colour": "red"}]}))
    with pytest.raises(NodeConfigError, match="malformed"):
        NodeStore(path).load()
