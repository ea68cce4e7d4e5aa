"""DICOM over TLS against a real Orthanc whose DICOM port only speaks TLS.

A throw-away certificate authority and a server certificate for 127.0.0.1 are made with the
``openssl`` command. Trusting that CA, C-ECHO and C-FIND go through; trusting only the system
store, the failure says the certificate is not trusted; plain DICOM to the TLS port fails
with a message that names TLS.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DICOM_CORPUS
from orthanc import Orthanc, free_port, running_orthanc
from test_app_gui import display, qapp  # noqa: F401  (the X display and Tandem's QApplication)

from pacs import dimse
from pacs.errors import NodeConfigError, PacsError
from pacs.nodes import NodeStore, PacsNode

TANDEM_AE = "TANDEMTLS"
CT_FILE = next(p for p in sorted((DICOM_CORPUS / "dcmqi" / "ct-3slice").rglob("*"))
               if p.is_file())


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def _certificates(folder: Path) -> dict[str, Path]:
    """A CA, and a server key + certificate signed by it for IP 127.0.0.1."""
    files = {name: folder / name for name in ("ca.key", "ca.pem", "server.key", "server.csr",
                                              "server.pem", "san.ext")}
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", str(files["ca.key"]), "-out", str(files["ca.pem"]),
             "-subj", "/CN=Tandem test practice CA")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(files["server.key"]),
             "-out", str(files["server.csr"]), "-subj", "/CN=127.0.0.1")
    files["san.ext"].write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", str(files["server.csr"]), "-CA", str(files["ca.pem"]),
             "-CAkey", str(files["ca.key"]), "-CAcreateserial", "-days", "2",
             "-extfile", str(files["san.ext"]), "-out", str(files["server.pem"]))
    return files


@pytest.fixture(scope="module")
def tls_orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Orthanc, Path]]:
    folder = tmp_path_factory.mktemp("orthanc_tls")
    certs = _certificates(folder)
    extra = {"DicomTlsEnabled": True,
             "DicomTlsCertificate": str(certs["server.pem"]),
             "DicomTlsPrivateKey": str(certs["server.key"]),
             "DicomTlsTrustedCertificates": str(certs["ca.pem"]),
             "DicomTlsRemoteCertificateRequired": False}
    with running_orthanc(folder / "orthanc", TANDEM_AE, free_port(), extra) as orthanc:
        orthanc.upload(CT_FILE)
        yield orthanc, certs["ca.pem"]


def test_echo_and_find_over_tls_with_the_practice_ca(tls_orthanc: tuple[Orthanc, Path]) -> None:
    orthanc, ca = tls_orthanc
    node = dataclasses.replace(orthanc.node, tls=True, tls_ca_file=str(ca))
    result = dimse.echo(node, calling_ae=TANDEM_AE)
    assert result.ok, result.message
    matches = dimse.find(node, "STUDY", dimse.FindQuery(), calling_ae=TANDEM_AE)
    assert len(matches) == 1 and matches[0].instances == 1


def test_an_untrusted_certificate_is_refused_with_the_reason(
        tls_orthanc: tuple[Orthanc, Path]) -> None:
    orthanc, _ = tls_orthanc
    node = dataclasses.replace(orthanc.node, tls=True)  # the system store only
    result = dimse.echo(node, calling_ae=TANDEM_AE)
    assert not result.ok
    assert "not trusted" in result.message and "certificate authority" in result.message
    with pytest.raises(PacsError, match="not trusted"):
        dimse.find(node, "STUDY", dimse.FindQuery(), calling_ae=TANDEM_AE)


def test_plain_dicom_to_a_tls_port_fails_clearly(tls_orthanc: tuple[Orthanc, Path]) -> None:
    orthanc, _ = tls_orthanc
    result = dimse.echo(orthanc.node, calling_ae=TANDEM_AE)
    assert not result.ok and orthanc.node.describe() in result.message
    assert "expect TLS" in result.message


def test_ca_file_is_stored_and_checked(tmp_path: Path, tls_orthanc: tuple[Orthanc, Path]) -> None:
    orthanc, ca = tls_orthanc
    store = NodeStore(tmp_path / "nodes.json")
    store.add(dataclasses.replace(orthanc.node, tls=True, tls_ca_file=str(ca)))
    assert store.get(orthanc.node.name).tls_ca_file == str(ca)
    missing = dataclasses.replace(orthanc.node, tls=True, tls_ca_file=str(tmp_path / "no.pem"))
    with pytest.raises(PacsError, match="certificate authority"):
        dimse.find(missing, "STUDY", dimse.FindQuery(), calling_ae=TANDEM_AE)
    with pytest.raises(NodeConfigError, match="TLS is off"):
        PacsNode("x", "X", "127.0.0.1", 104, tls=False, tls_ca_file=str(ca))


def test_cli_echo_over_tls(tls_orthanc: tuple[Orthanc, Path], tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main

    orthanc, ca = tls_orthanc
    node = orthanc.node
    base = ["pacs", "add", "secure", "--aet", node.ae_title, "--host", node.host,
            "--port", str(node.port)]
    assert main([*base, "--tls-ca", str(tmp_path / "missing.pem")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main([*base, "--tls-ca", str(ca)]) == 0  # --tls-ca implies --tls
    assert main(["pacs", "list"]) == 0
    assert f"TLS (CA {ca})" in capsys.readouterr().out
    assert main(["pacs", "echo", "secure"]) == 0
    assert "C-ECHO ok" in capsys.readouterr().out


@pytest.mark.gui
def test_nodes_dialog_saves_and_tests_a_tls_node(tls_orthanc: tuple[Orthanc, Path],
                                                 tmp_path: Path, qtbot, request) -> None:
    """PACS > Nodes…: TLS with the practice's CA, typed in the form, saved and tested."""
    from PySide6.QtCore import Qt

    from app.pacs_nodes_dialog import NodesDialog

    request.getfixturevalue("qapp")  # Tandem's QApplication on the X display
    orthanc, ca = tls_orthanc
    nodes = NodeStore(tmp_path / "nodes.json")
    dialog = NodesDialog(nodes)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.ca_edit.isEnabled()  # only with TLS
    qtbot.keyClicks(dialog.name_edit, "secure")
    qtbot.keyClicks(dialog.ae_edit, orthanc.node.ae_title)
    qtbot.keyClicks(dialog.host_edit, "127.0.0.1")
    dialog.port_spin.setValue(orthanc.dicom_port)
    dialog.tls_box.setChecked(True)
    dialog.ca_edit.setText(str(tmp_path / "missing.pem"))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "does not exist" in dialog.message.text() and nodes.nodes() == ()
    dialog.ca_edit.setText(str(ca))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    (saved,) = nodes.nodes()
    assert saved.tls and saved.tls_ca_file == str(ca)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.testing, timeout=30000)
    assert dialog.echo_label.text().startswith("Connection OK (C-ECHO in ")
