"""DICOM networking with PACS and modalities (no Qt, no VTK).

pynetdicom logs every C-FIND/C-MOVE identifier (patient name, ID, birth date) by default;
Tandem's logs must never hold patient data, so that is switched off for the whole package.
"""

from pynetdicom import _config as _pynetdicom_config

_pynetdicom_config.LOG_REQUEST_IDENTIFIERS = False
_pynetdicom_config.LOG_RESPONSE_IDENTIFIERS = False
