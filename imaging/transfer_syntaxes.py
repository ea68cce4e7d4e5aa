"""Transfer syntaxes newer than pydicom 3.0's dictionary, registered once for all of Tandem.

pynetdicom adds these four to pydicom's UID dictionary when it is imported, so without this
module a file in one of them would read differently in a process that has touched the PACS
code (the GUI) than in one that has not (a CLI command): "UID is not a transfer syntax" in one,
a header in the other. Registering them here, when ``imaging`` is imported, makes every Tandem
process read them alike. Decoding them is another matter: none has a decoder here, so their
images are refused at decode time with ``unsupported_transfer_syntax``; their headers can be
indexed, de-identified and sent on as stored.
"""

from __future__ import annotations

from pydicom._uid_dict import UID_dictionary  # the same private table pynetdicom updates

NEWER_TRANSFER_SYNTAXES = {
    "1.2.840.10008.1.2.4.110": ("JPEG XL Lossless", "JPEGXLLossless"),
    "1.2.840.10008.1.2.4.111": ("JPEG XL JPEG Recompression", "JPEGXLJPEGRecompression"),
    "1.2.840.10008.1.2.4.112": ("JPEG XL", "JPEGXL"),
    "1.2.840.10008.1.2.8.1": ("Deflated Image Frame Compression",
                              "DeflatedImageFrameCompression"),
}


def register() -> None:
    for uid, (name, keyword) in NEWER_TRANSFER_SYNTAXES.items():
        UID_dictionary.setdefault(uid, (name, "Transfer Syntax", "", "", keyword))
