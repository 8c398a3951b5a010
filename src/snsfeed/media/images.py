"""Image processing (Pillow): decode safely, strip metadata, orient, and write variants.

Nothing of the uploaded bytes is ever served: every file we store is re-encoded from
decoded pixels, so EXIF/GPS, comments, trailing payloads (polyglots) and malformed
chunks do not survive. Dimensions are checked from the header before any pixel is
decoded, which is what stops decompression bombs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import structlog
from PIL import Image, ImageOps

from snsfeed.media.placeholder import image_blurhash

log = structlog.get_logger("snsfeed.media")

PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}
# Name → longest side of the WebP variants.
VARIANT_SIDES = {"small": 320, "large": 1080}


class ImageRejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ImageLimits:
    max_pixels: int
    max_side: int
    original_max_side: int


@dataclass(frozen=True)
class Rendition:
    name: str
    path: Path
    width: int
    height: int
    content_type: str

    @property
    def bytes(self) -> int:
        return self.path.stat().st_size


@dataclass(frozen=True)
class ImageResult:
    width: int
    height: int
    blurhash: str
    renditions: list[Rendition]


def check_dimensions(width: int, height: int, limits: ImageLimits) -> None:
    if width <= 0 or height <= 0:
        raise ImageRejected("image_invalid", "The image has no pixels")
    if max(width, height) > limits.max_side:
        raise ImageRejected(
            "image_dimensions_too_large",
            f"The image is {width}×{height}; the longest side may be {limits.max_side} px",
        )
    if width * height > limits.max_pixels:
        raise ImageRejected(
            "image_too_many_pixels",
            f"The image has {width * height} pixels; at most {limits.max_pixels} are accepted",
        )


def _flatten_mode(image: Image.Image) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    return image.convert("RGBA" if has_alpha else "RGB")


def _save(image: Image.Image, path: Path, fmt: str) -> None:
    # No exif=, icc_profile= or pnginfo= arguments: the output carries pixels only.
    if fmt == "JPEG":
        image.convert("RGB").save(path, "JPEG", quality=88, optimize=True)
    elif fmt == "PNG":
        image.save(path, "PNG")
    else:
        image.save(path, "WEBP", quality=82, method=4)


def _scaled(image: Image.Image, side: int) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return copy


def _decode(src: Path, source_type: str, limits: ImageLimits) -> Image.Image:
    fmt = PILLOW_FORMATS[source_type]
    try:
        # Pillow's own bomb guard warns, or refuses past twice its limit; ours is below.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(src, formats=[fmt])
    except Image.DecompressionBombError as exc:
        raise ImageRejected(
            "image_too_many_pixels", "The image has more pixels than are accepted"
        ) from exc
    except Exception as exc:
        raise ImageRejected("image_invalid", f"The file is not a readable {fmt} image") from exc
    check_dimensions(*opened.size, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if fmt == "JPEG":
                # Decode big JPEGs at a reduced scale: less memory and time, same result.
                side = limits.original_max_side
                opened.draft("RGB", (side, side))
            # Animated GIF/WebP: the first frame is the still we keep.
            opened.seek(0)
            opened.load()
            oriented = ImageOps.exif_transpose(opened)
            return _flatten_mode(oriented)
    except ImageRejected:
        raise
    except Exception as exc:
        # Truncated data, bad chunks, broken EXIF … are the client's file, not our bug.
        log.info("image_decode_failed", error=repr(exc)[:300])
        raise ImageRejected("image_invalid", "The image is corrupt or truncated") from exc
    finally:
        opened.close()


def process_image(src: Path, out_dir: Path, source_type: str, limits: ImageLimits) -> ImageResult:
    """Blocking: run in a worker thread."""
    image = _decode(src, source_type, limits)
    renditions = []
    original = _scaled(image, limits.original_max_side)
    fmt = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "GIF": "PNG"}[PILLOW_FORMATS[source_type]]
    ext, mime = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png")}.get(
        fmt, ("webp", "image/webp")
    )
    path = out_dir / f"original.{ext}"
    _save(original, path, fmt)
    renditions.append(Rendition("original", path, *original.size, mime))
    for name, side in VARIANT_SIDES.items():
        scaled = _scaled(original, side)
        path = out_dir / f"{name}.webp"
        _save(scaled, path, "WEBP")
        renditions.append(Rendition(name, path, *scaled.size, "image/webp"))
    # The stored original's size: what clients are served (big JPEGs decode scaled down).
    return ImageResult(*original.size, image_blurhash(image), renditions)
