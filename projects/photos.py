"""Site photos of progress reports: checked, cleaned and resized before anything is stored.

The type is judged by the content (JPEG, PNG or WebP), the size of the file and the pixel count (read from
the header) are checked before any pixel is decoded, so an image bomb never reaches the decoder. What is
stored is a re-encoding of the pixels alone: orientation applied, then every EXIF, XMP, ICC, text chunk and
GPS position left behind; the long side at most 1,920 px; and a thumbnail.
"""

import io
import struct
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_PHOTOS = 9
LONG_SIDE = 1920
THUMBNAIL_SIDE = 320

# Pillow format name: (content type, stored extension).
FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}
SAVE_OPTIONS = {"JPEG": {"quality": 85, "optimize": True}, "PNG": {"optimize": True}, "WEBP": {"quality": 85}}


def sniff_format(head: bytes) -> str | None:
    """The Pillow format name of an accepted photo from its first bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _read_head(fileobj, size=16):
    fileobj.seek(0)
    head = fileobj.read(size)
    fileobj.seek(0)
    return head


def check_photo(upload) -> str:
    """Refuse a file that is not a JPEG, PNG or WebP, is over 10 MB, or has over 40 megapixels.

    Only the header is parsed here (Pillow's `open` is lazy); returns the format name.
    """
    if upload.size > MAX_BYTES:
        raise ValidationError(
            _("The photo is too large (%(size)s); the limit is %(limit)s."),
            code="photo_too_large",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(MAX_BYTES)},
        )
    image_format = sniff_format(_read_head(upload))
    if image_format is None:
        raise ValidationError(_("Only JPEG, PNG and WebP photos are accepted."), code="photo_type")
    try:
        width, height = header_size(upload, image_format)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, KeyError, struct.error):
        raise ValidationError(_("The photo cannot be read."), code="photo_unreadable") from None
    finally:
        upload.seek(0)
    if width * height > MAX_PIXELS:
        raise ValidationError(
            _("The photo has too many pixels (%(width)s × %(height)s); the limit is 40 megapixels."),
            code="photo_too_many_pixels",
            params={"width": width, "height": height},
        )
    return image_format


def header_size(fileobj, image_format: str) -> tuple[int, int]:
    """(width, height) as the header of the file states them, nothing decoded.

    The format's own parser is called directly rather than through `Image.open`, whose decompression-bomb
    check would refuse a huge photo (or warn of it) before our limit could be stated with its dimensions.
    """
    Image.init()
    factory, _accept = Image.OPEN[image_format]
    fileobj.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = factory(fileobj, "")
    return image.size  # not closed: that would close the upload, which is read again


def _pixels_only(image: Image.Image, image_format: str) -> Image.Image:
    """A new image holding only the pixels: no info dictionary, EXIF, ICC profile or text chunks."""
    if image_format == "JPEG" or image.mode not in ("RGB", "RGBA"):
        has_alpha = image_format != "JPEG" and (
            image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        )
        image = image.convert("RGBA" if has_alpha else "RGB")
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _encode(image: Image.Image, image_format: str, name: str) -> ContentFile:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **SAVE_OPTIONS[image_format])
    return ContentFile(buffer.getvalue(), name=name + FORMATS[image_format][1])


def process_photo(upload) -> tuple[ContentFile, ContentFile]:
    """Check an uploaded photo, then return (photo, thumbnail) re-encoded without metadata."""
    image_format = check_photo(upload)
    try:
        with Image.open(upload, formats=[image_format]) as image:
            if image_format == "JPEG":
                # Decode at a reduced scale when the photo is much larger than what is kept.
                image.draft("RGB", (LONG_SIDE, LONG_SIDE))
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
            clean = _pixels_only(upright, image_format)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("The photo cannot be read."), code="photo_unreadable") from None
    thumbnail = clean.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return _encode(clean, image_format, "photo"), _encode(thumbnail, image_format, "thumbnail")


def content_type_of(fileobj) -> str | None:
    """The content type a stored photo is served with, judged by its content."""
    image_format = sniff_format(_read_head(fileobj))
    return FORMATS[image_format][0] if image_format else None
