"""Configured PACS nodes and Tandem's own AE title/port, kept in ``<data dir>/pacs_nodes.json``.

The file is rewritten atomically (temporary file in the same folder, fsync, ``os.replace``), so
a crash never leaves half a configuration. Every value is validated when it is built, so a node
read back from the file is as trustworthy as one typed by the user.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imaging import paths
from pacs.errors import NodeConfigError

NODES_FILE = "pacs_nodes.json"
DEFAULT_AE_TITLE = "TANDEM"
DEFAULT_PORT = 11112
_FORMAT_VERSION = 1


def validate_ae_title(value: str) -> str:
    """Return the AE title stripped of spaces; raise :class:`NodeConfigError` if invalid.

    PS3.5 AE: at most 16 characters of the default repertoire, no backslash, no control
    characters, not only spaces.
    """
    title = value.strip()
    if not title:
        raise NodeConfigError("AE title is empty")
    if len(title) > 16:
        raise NodeConfigError(f"AE title {title!r} is longer than 16 characters")
    if any(not (32 <= ord(c) < 127) or c == "\\" for c in title):
        raise NodeConfigError(f"AE title {title!r} may only hold printable ASCII without '\\'")
    return title


def validate_port(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise NodeConfigError(f"port {value!r} is not a number between 1 and 65535")
    return value


@dataclass(frozen=True)
class PacsNode:
    """A remote DICOM node (PACS, modality, workstation) Tandem talks to."""

    name: str
    ae_title: str
    host: str
    port: int
    tls: bool = False
    dicomweb_url: str | None = None
    # PEM file of the certificate authority (or the PACS's own self-signed certificate) to
    # trust for DICOM TLS; None trusts the system's store. Practices often run their own CA.
    tls_ca_file: str | None = None

    def __post_init__(self) -> None:
        name = self.name.strip()
        if not name or len(name) > 64 or any(not c.isprintable() for c in name):
            raise NodeConfigError(f"node name {self.name!r} must be 1 to 64 printable characters")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "ae_title", validate_ae_title(self.ae_title))
        host = self.host.strip()
        if not host or any(c.isspace() or not c.isprintable() for c in host):
            raise NodeConfigError(f"node {name!r}: host {self.host!r} is not a host name")
        object.__setattr__(self, "host", host)
        try:
            validate_port(self.port)
        except NodeConfigError as exc:
            raise NodeConfigError(f"node {name!r}: {exc.message}") from None
        if self.tls_ca_file is not None and not self.tls:
            raise NodeConfigError(f"node {name!r}: a TLS certificate authority is given but "
                                  "TLS is off")
        url = self.dicomweb_url
        if url is not None and not url.startswith(("http://", "https://")):
            raise NodeConfigError(f"node {name!r}: DICOMweb URL {url!r} must start with "
                                  "http:// or https://")

    def describe(self) -> str:
        """How messages name the node: ``'orthanc' (ORTHANC@pacs.local:4242)``."""
        return f"{self.name!r} ({self.ae_title}@{self.host}:{self.port})"


@dataclass(frozen=True)
class LocalAE:
    """Tandem's own AE title and the port its storage SCP listens on."""

    ae_title: str = DEFAULT_AE_TITLE
    port: int = DEFAULT_PORT

    def __post_init__(self) -> None:
        object.__setattr__(self, "ae_title", validate_ae_title(self.ae_title))
        validate_port(self.port)


@dataclass(frozen=True)
class PacsConfig:
    local: LocalAE
    nodes: tuple[PacsNode, ...]


class NodeStore:
    """Reads and writes the PACS configuration file (default: in Tandem's data folder)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else paths.data_dir() / NODES_FILE

    def load(self) -> PacsConfig:
        """The saved configuration; defaults when the file does not exist yet."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return PacsConfig(LocalAE(), ())
        except (OSError, ValueError) as exc:
            raise NodeConfigError(f"{self.path}: cannot read the PACS configuration ({exc})") \
                from None
        try:
            local = LocalAE(**raw.get("local", {}))
            nodes = tuple(PacsNode(**n) for n in raw.get("nodes", []))
        except (TypeError, AttributeError) as exc:
            raise NodeConfigError(f"{self.path}: malformed PACS configuration ({exc})") from None
        except NodeConfigError as exc:
            raise NodeConfigError(f"{self.path}: {exc.message}") from None
        return PacsConfig(local, nodes)

    def nodes(self) -> tuple[PacsNode, ...]:
        return self.load().nodes

    def get(self, name: str) -> PacsNode:
        for node in self.nodes():
            if node.name == name.strip():
                return node
        known = ", ".join(n.name for n in self.nodes()) or "none configured"
        raise NodeConfigError(f"no PACS node named {name!r} (known: {known})")

    def add(self, node: PacsNode, *, replace: bool = False) -> None:
        config = self.load()
        if not replace and any(n.name == node.name for n in config.nodes):
            raise NodeConfigError(f"a PACS node named {node.name!r} already exists")
        others = tuple(n for n in config.nodes if n.name != node.name)
        self._save(PacsConfig(config.local, (*others, node)))

    def remove(self, name: str) -> None:
        config = self.load()
        node = self.get(name)
        self._save(PacsConfig(config.local, tuple(n for n in config.nodes if n != node)))

    def local(self) -> LocalAE:
        return self.load().local

    def set_local(self, local: LocalAE) -> None:
        self._save(PacsConfig(local, self.load().nodes))

    def _save(self, config: PacsConfig) -> None:
        data: dict[str, Any] = {
            "version": _FORMAT_VERSION,
            "local": dataclasses.asdict(config.local),
            "nodes": [dataclasses.asdict(n) for n in config.nodes],
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                       dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(data, f, indent=2, ensure_ascii=False)
                    f.write("\n")
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            finally:
                Path(tmp).unlink(missing_ok=True)
        except OSError as exc:
            raise NodeConfigError(f"{self.path}: cannot save the PACS configuration ({exc})") \
                from None
