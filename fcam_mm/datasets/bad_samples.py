"""Files that go bad after a dataset was built: errors that name the file
and the metadata line, and the opt-in policy that skips such samples in
training (``skip_bad_samples``, docs/datasets.md "Broken files met during
training").

The build-time checks (``fcam_mm.datasets.metadata``, ``check_files``) see
the metadata and whether files exist; what a file holds is only seen when
the loader reads it: a truncated image, an image or mask of another size
than the metadata says. Those raise :class:`DataFileError`.
"""
from typing import Dict, Optional

from mmengine.logging import print_log


class DataFileError(ValueError):
    """A listed image or mask file cannot be used: missing, unreadable,
    truncated, or not the size the metadata gives. The message names the
    file and, when the sample came from a metadata split, the metadata
    file:line that lists it.

    A ``ValueError`` (what the loaders raised before), constructible from
    the message alone, so that PyTorch's DataLoader re-raises it from a
    worker process with its own type.
    """

    def __init__(self, message: str, path: Optional[str] = None):
        super().__init__(message)
        self.path = path


def listed_on(where: Optional[Dict], key: str) -> str:
    """`` (listed on FILE:LINE)`` for ``where[key]``, or ``''``."""
    place = (where or {}).get(key)
    return f' (listed on {place})' if place else ''


# -- completeness of encoded images -----------------------------------------
_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
_PNG_IEND = b'IEND\xaeB`\x82'  # the IEND chunk's type and CRC
_JPEG_STANDALONE = frozenset([0x01, *range(0xD0, 0xD9)])  # TEM, RSTn, SOI
_JPEG_EOI = b'\xff\xd9'


def _jpeg_problem(data: bytes) -> Optional[str]:
    truncated = (f'truncated JPEG: the data ends ({len(data)} bytes) '
                 'before the end-of-image marker')
    size, pos = len(data), 2
    # The segments before the first scan, walked by their lengths (an EXIF
    # thumbnail's end marker, inside APP1, is skipped).
    while True:
        if pos + 2 > size:
            return truncated
        if data[pos] != 0xFF:
            return None  # no marker where one is due: left to the decoder
        while pos + 2 < size and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        marker = data[pos + 1]
        if marker == 0xD9:  # EOI before any scan: left to the decoder
            return None
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        if pos + 4 > size:
            return truncated
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], 'big')
        if pos > size:
            return truncated
        if marker == 0xDA:  # SOS: the first scan starts at pos
            break
    # In scan data a 0xFF byte is followed by a stuffed 0x00 or a restart
    # marker, and the tables between the scans of a progressive JPEG cannot
    # hold 0xFF 0xD9 either: an EOI after the start of the first scan is the
    # image's end. Searched from the end of the file, where it is.
    return None if data.rfind(_JPEG_EOI, pos) >= 0 else truncated


def encoded_image_problem(data: bytes) -> Optional[str]:
    """Why the bytes of a JPEG or PNG file are not a complete image, or
    ``None`` (also for other formats, which the decoder judges alone).

    JPEG: the marker segments before the first scan are walked (by their
    lengths, so an EXIF thumbnail's end marker does not count) and the
    end-of-image marker must follow; bytes after it are allowed. PNG: the
    IEND chunk must be present. Decoders differ on
    truncated files — some OpenCV builds return the decoded top part and
    only print ``Premature end of JPEG file`` — so this is checked on the
    bytes, before decoding. Cost: a walk over the few segments before the
    first scan and a search from the end of the file (microseconds).
    """
    if data[:2] == b'\xff\xd8':
        return _jpeg_problem(data)
    if data[:8] == _PNG_SIGNATURE and data.rfind(_PNG_IEND) < 0:
        return (f'truncated PNG: the data ends ({len(data)} bytes) before '
                'the IEND chunk')
    return None


# -- the skip policy ---------------------------------------------------------
#: metainfo key of a training sample: the errors of the bad samples that the
#: dataset skipped before it (``BadSampleReportHook`` counts them).
SKIPPED_KEY = 'skipped_bad_samples'


def attach_skipped(data, skipped: list) -> bool:
    """Record ``skipped`` (error messages) in the packed sample ``data``'s
    metainfo; False when ``data`` has no data sample to carry them."""
    sample = data.get('data_samples') if isinstance(data, dict) else None
    if sample is None or not hasattr(sample, 'set_metainfo'):
        return False
    sample.set_metainfo({SKIPPED_KEY: list(skipped)})
    return True


def log_skipped(error: Exception, index: int) -> None:
    print_log(
        f'skip_bad_samples: skipped training sample {index}: {error}',
        logger='current', level=30)  # logging.WARNING
