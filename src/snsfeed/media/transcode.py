"""Video transcoding (PyAV) in a child process with hard limits.

The parent (``run_transcoder``) starts ``python -m snsfeed.media.transcode`` and kills it
when it runs past the wall-clock timeout. The child caps its own CPU time and address
space with ``setrlimit`` before it imports FFmpeg, so a hostile file can neither spin
forever nor exhaust the machine's memory; and it stops decoding once the video is
longer than the limit, so a stream that never ends is refused, not followed.

Output: H.264/AAC MP4 (``faststart``) no taller than the limit (720p by default), at
most ``max_fps`` frames per second, plus a WebP poster of the first frame. The child
prints one JSON line: the metadata, or a failure code and reason.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import signal
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the child process stays light: no settings, no logging set-up
    from snsfeed.config import Settings

VIDEO_FILE = "video.mp4"
POSTER_FILE = "poster.webp"
# Decoding a frame of more than this many pixels is refused (8K UHD).
MAX_SOURCE_PIXELS = 7680 * 4320


@dataclass(frozen=True)
class TranscodeResult:
    ok: bool
    code: str = ""
    reason: str = ""
    width: int = 0
    height: int = 0
    duration_seconds: float = 0.0
    blurhash: str = ""
    has_audio: bool = False


class Refused(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# ---------------------------------------------------------------------------- parent side


async def run_transcoder(src: Path, out_dir: Path, settings: Settings) -> TranscodeResult:
    """Transcode ``src`` into ``out_dir``; never raises for a bad video."""
    args = [
        sys.executable,
        "-m",
        "snsfeed.media.transcode",
        str(src),
        str(out_dir),
        f"--max-seconds={settings.media_video_max_seconds}",
        f"--max-height={settings.media_video_max_height}",
        f"--max-fps={settings.media_video_max_fps}",
        f"--cpu-seconds={settings.media_transcode_cpu_seconds}",
        f"--memory-mb={settings.media_transcode_memory_mb}",
    ]
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group: the kill reaches FFmpeg's threads too
    )
    timeout = settings.media_transcode_timeout_seconds
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        _kill(proc)
        await proc.wait()
        return TranscodeResult(
            False, "transcode_timeout", f"Processing the video took longer than {timeout:g} s"
        )
    except asyncio.CancelledError:
        _kill(proc)
        raise
    return _parse_child_output(proc.returncode, stdout, stderr)


def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _parse_child_output(returncode: int | None, stdout: bytes, stderr: bytes) -> TranscodeResult:
    lines = stdout.decode("utf-8", "replace").strip().splitlines()
    if returncode == 0 and lines:
        try:
            data = json.loads(lines[-1])
            return TranscodeResult(**data)
        except (ValueError, TypeError):
            pass
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return TranscodeResult(
            False, "transcode_cpu_limit", "Processing the video used more CPU time than allowed"
        )
    tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
    if "MemoryError" in tail[0]:
        return TranscodeResult(
            False, "transcode_memory_limit", "Processing the video needed too much memory"
        )
    return TranscodeResult(
        False, "transcode_crashed", f"The video could not be processed ({tail[0][:200]})"
    )


# ----------------------------------------------------------------------------- child side


def _limit_resources(cpu_seconds: int, memory_mb: int) -> None:
    # Soft CPU limit sends SIGXCPU (default action: terminate); the hard one a SIGKILL.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _output_size(width: int, height: int, max_height: int) -> tuple[int, int]:
    """Fit the short side to ``max_height`` and the long one to its 16:9 partner (≤ 720p)."""
    max_long = max_height * 16 // 9
    scale = min(1.0, max_height / min(width, height), max_long / max(width, height))

    def even(value: int) -> int:  # H.264 with 4:2:0 chroma needs even sizes
        return max(2, int(value * scale) // 2 * 2)

    return even(width), even(height)


def transcode(
    src: Path, out_dir: Path, max_seconds: float, max_height: int, max_fps: int
) -> dict[str, Any]:
    import av
    from PIL import Image

    from snsfeed.media.placeholder import image_blurhash

    try:
        container = av.open(str(src), mode="r", metadata_errors="ignore")
    except Exception as exc:
        raise Refused("video_invalid", "The file is not a readable video") from exc
    with container:
        if not container.streams.video:
            raise Refused("video_no_video_stream", "The file has no video track")
        vin = container.streams.video[0]
        ain = container.streams.audio[0] if container.streams.audio else None
        declared = container.duration / av.time_base if container.duration else None
        if declared is not None and declared > max_seconds:
            raise Refused("video_too_long", f"The video is longer than {max_seconds:g} s")
        width, height = vin.codec_context.width, vin.codec_context.height
        if not width or not height:
            raise Refused("video_invalid", "The video track has no picture size")
        if width * height > MAX_SOURCE_PIXELS:
            raise Refused("video_dimensions_too_large", f"The video is {width}×{height}")
        out_w, out_h = _output_size(width, height, max_height)
        rate_in = vin.average_rate or vin.guessed_rate or Fraction(max_fps)
        fps = max(1, min(max_fps, round(float(rate_in))))
        # Frames beyond what the duration limit allows at the source's own rate mean the
        # stream lies about its timing or never ends.
        max_frames = int(max_seconds * max(float(rate_in), fps) * 2) + 10

        out = av.open(
            str(out_dir / VIDEO_FILE), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        with out:
            vout = out.add_stream("libx264", rate=fps)
            vout.width, vout.height, vout.pix_fmt = out_w, out_h, "yuv420p"
            vout.codec_context.options = {"crf": "23", "preset": "veryfast"}
            vout.codec_context.thread_count = 2
            aout = resampler = None
            if ain is not None:
                aout = out.add_stream("aac", rate=48000, layout="stereo")
                resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)
            poster: Image.Image | None = None
            last_pts, frames, duration = -1, 0, 0.0
            streams = [vin] + ([ain] if ain is not None else [])
            try:
                for packet in container.demux(*streams):
                    for frame in packet.decode():
                        if not isinstance(frame, av.VideoFrame | av.AudioFrame):
                            continue
                        t = float(frame.time) if frame.time is not None else None
                        if t is not None and t > max_seconds:
                            raise Refused(
                                "video_too_long", f"The video is longer than {max_seconds:g} s"
                            )
                        if isinstance(frame, av.AudioFrame):
                            assert aout is not None and resampler is not None
                            for chunk in resampler.resample(frame):
                                out.mux(aout.encode(chunk))
                            continue
                        frames += 1
                        if frames > max_frames:
                            raise Refused("video_too_long", "The video has too many frames")
                        t = t if t is not None else frames / fps
                        # Floor, not round: at a capped rate, frames share a slot and the
                        # first one wins (the epsilon absorbs float error at equal rates).
                        pts = math.floor(t * fps + 1e-3)
                        if pts <= last_pts:
                            continue  # above the frame-rate cap, or a repeated timestamp
                        last_pts, duration = pts, max(duration, t)
                        scaled = frame.reformat(width=out_w, height=out_h, format="yuv420p")
                        scaled.pts, scaled.time_base = pts, Fraction(1, fps)
                        if poster is None:
                            poster = scaled.to_image()  # type: ignore[no-untyped-call]
                        out.mux(vout.encode(scaled))
            except Refused:
                raise
            except Exception as exc:
                raise Refused("video_invalid", "The video is corrupt or truncated") from exc
            if poster is None:
                raise Refused("video_no_frames", "The video has no decodable frames")
            out.mux(vout.encode(None))
            if aout is not None and resampler is not None:
                for chunk in resampler.resample(None):
                    out.mux(aout.encode(chunk))
                out.mux(aout.encode(None))
    poster.save(out_dir / POSTER_FILE, "WEBP", quality=80)
    return {
        "ok": True,
        "width": out_w,
        "height": out_h,
        "duration_seconds": round(duration + 1 / fps, 3),
        "blurhash": image_blurhash(poster),
        "has_audio": ain is not None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m snsfeed.media.transcode")
    parser.add_argument("src", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--max-seconds", type=float, required=True)
    parser.add_argument("--max-height", type=int, required=True)
    parser.add_argument("--max-fps", type=int, required=True)
    parser.add_argument("--cpu-seconds", type=int, required=True)
    parser.add_argument("--memory-mb", type=int, required=True)
    args = parser.parse_args(argv)
    _limit_resources(args.cpu_seconds, args.memory_mb)
    try:
        result = transcode(args.src, args.out_dir, args.max_seconds, args.max_height, args.max_fps)
    except Refused as exc:
        result = {"ok": False, "code": exc.code, "reason": exc.reason}
    except MemoryError:
        result = {
            "ok": False,
            "code": "transcode_memory_limit",
            "reason": "Processing the video needed too much memory",
        }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
