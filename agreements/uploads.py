"""Checks on uploaded files: a size limit and the file type read from the content, never from the name."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

# Leading bytes of each accepted type, and the content type it is served with.
SIGNATURES = [
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
]
HEADER_BYTES = 16


def sniff_content_type(fileobj) -> str | None:
    """The content type of an accepted file judged by its first bytes, or None for anything else."""
    position = fileobj.tell() if hasattr(fileobj, "tell") else None
    try:
        fileobj.seek(0)
        head = fileobj.read(HEADER_BYTES)
    finally:
        if position is not None:
            fileobj.seek(position)
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def validate_document(value):
    """A newly uploaded document must be a PDF, JPEG or PNG (by content) within the upload size limit.

    Files already stored were checked when they came in, so only a new upload (not yet committed to the
    storage) is read.
    """
    if not value or getattr(value, "_committed", True):
        return
    limit = settings.AIDTRACKER_UPLOAD_MAX_BYTES
    if value.size > limit:
        raise ValidationError(
            _("The file is too large (%(size)s); the limit is %(limit)s."),
            code="file_too_large",
            params={"size": filesizeformat(value.size), "limit": filesizeformat(limit)},
        )
    if sniff_content_type(value.file) is None:
        raise ValidationError(
            _("Only PDF, JPEG and PNG files are accepted; this file is none of them."),
            code="file_type",
        )


def served_content_type(fileobj) -> str | None:
    """The content type a stored file is served with: the accepted document types, and WebP photos."""
    content_type = sniff_content_type(fileobj)
    if content_type:
        return content_type
    position = fileobj.tell()
    fileobj.seek(0)
    head = fileobj.read(HEADER_BYTES)
    fileobj.seek(position)
    return "image/webp" if head[:4] == b"RIFF" and head[8:12] == b"WEBP" else None
