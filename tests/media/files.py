"""Generated test files: real images and videos, and the broken and hostile ones."""

from __future__ import annotations

import functools
import io
import math
import os
import struct
import zlib
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (640, 480), colour: tuple[int, ...] = (200, 40, 40)
) -> bytes:
    mode = "RGBA" if fmt in ("PNG", "WEBP") and len(colour) == 4 else "RGB"
    image = Image.new(mode, size, colour)
    # A gradient stripe, so encoders have something to encode and variants differ.
    for x in range(0, size[0], 8):
        image.paste((x % 256, 90, 160), (x, 0, min(size[0], x + 4), max(1, size[1] // 4)))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def jpeg_with_gps_and_rotation(size: tuple[int, int] = (400, 200)) -> bytes:
    """A JPEG whose EXIF holds a GPS position and orientation 6 (rotate 90° clockwise)."""
    image = Image.new("RGB", size, (10, 200, 10))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "SecretCam"  # Make
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (37.0, 33.0, 59.0)
    gps[3] = "E"
    gps[4] = (126.0, 58.0, 41.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def noise_png(side: int) -> bytes:
    """Incompressible pixels: a PNG of about 3 × side² bytes."""
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


@functools.cache
def png_bomb(width: int = 12_000, height: int = 12_000) -> bytes:
    """A valid grayscale PNG of width × height zero pixels: ~100 KB that inflate to ~144 MB."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + pixels
    parts = [compressor.compress(row * 500) for _ in range(height // 500)]
    parts.append(compressor.compress(row * (height % 500)))
    parts.append(compressor.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and header claiming these dimensions, and no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IEND", b"")


def video_bytes(
    tmp: Path,
    *,
    seconds: float = 1.0,
    fps: int = 10,
    size: tuple[int, int] = (64, 48),
    audio: bool = True,
    video: bool = True,
    container: str = "mp4",
    options: dict[str, str] | None = None,
) -> bytes:
    """A real H.264 (+AAC) video made with PyAV; tiny, so it encodes in milliseconds."""
    path = tmp / f"generated-{os.urandom(4).hex()}.video"
    with av.open(str(path), "w", format=container, options=options or {}) as out:
        # Every stream is declared before the first packet: the header is written then.
        vstream = out.add_stream("libx264", rate=fps) if video else None
        astream = out.add_stream("aac", rate=44_100, layout="mono") if audio else None
        if vstream is not None:
            vstream.width, vstream.height, vstream.pix_fmt = size[0], size[1], "yuv420p"
            for i in range(int(seconds * fps)):
                frame = av.VideoFrame.from_image(Image.new("RGB", size, ((i * 25) % 256, 90, 30)))
                frame.pts, frame.time_base = i, Fraction(1, fps)
                out.mux(vstream.encode(frame))
            out.mux(vstream.encode(None))
        if astream is not None:
            _write_tone(out, astream, seconds)
    data = path.read_bytes()
    path.unlink()
    return data


def _write_tone(out: Any, astream: Any, seconds: float) -> None:
    rate, step = 44_100, 1024
    total = int(seconds * rate)
    for start in range(0, total, step):
        n = min(step, total - start)
        frame = av.AudioFrame(format="s16", layout="mono", samples=n)
        samples = (int(6000 * math.sin(2 * math.pi * 440 * (start + j) / rate)) for j in range(n))
        frame.planes[0].update(struct.pack(f"<{n}h", *samples))
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        out.mux(astream.encode(frame))
    out.mux(astream.encode(None))
