"""Blurhash placeholders (also imported by the transcoder child, so kept dependency-light)."""

from __future__ import annotations

import blurhash
from PIL import Image


def image_blurhash(image: Image.Image) -> str:
    tiny = image.copy()
    tiny.thumbnail((64, 64))
    tiny = tiny.convert("RGB")
    components_x, components_y = (4, 3) if tiny.width >= tiny.height else (3, 4)
    # blurhash-python closes the image it is given: it gets a copy.
    return str(blurhash.encode(tiny, components_x, components_y))
