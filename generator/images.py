"""Merchant images: product photos and store logos, found, checked, resized and published.

A merchant file names each image by its path from the merchant file's folder. The build
checks it (a file inside the sites folder, JPEG, PNG, WebP or GIF, whole), resizes it
once and publishes the results under `<slug>/_images/` with names made from their bytes
(`_` never starts a product slug, so the folder is free). What Pillow made is kept in a
cache beside the output, by the source's bytes: a later build of an unchanged image
reads it back instead of encoding it again (and does not import Pillow at all).

- A photo: the width of a 360 px phone at 2x (720 px) and of the 40rem page column on a
  desktop at 2x (1280 px), never enlarged; JPEG, or PNG when it is transparent.
- A logo: 80 px high (the 40 px of the page header at 2x, wider logos at most 480 px)
  and a 64 x 64 favicon, both PNG: flat colours and sharp edges.

Published images carry no metadata: a phone photo's EXIF (its GPS position among it) is
dropped after its orientation is applied.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .output import UNFINISHED

Kind = Literal["photo", "logo"]
FOLDER = "_images"  # under the site's folder
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")  # what Pillow is allowed to read
FORMAT_NAMES = "JPEG, PNG, WebP or GIF"
MAX_BYTES = 10_000_000  # a phone's photo is 2-6 MB
MAX_PATH_CHARS = 255
MAX_PIXELS = 50_000_000  # 8,000 x 6,000 and a little more
PHOTO_WIDTHS = (720, 1280)
LOGO_HEIGHT, LOGO_MAX_WIDTH = 80, 480
FAVICON_SIZE = 64
JPEG_QUALITY = 82
# Part of every cache key: change it with anything above or in `_encode`, and every
# image is encoded again.
RECIPE = "1"


@dataclass(frozen=True)
class Variant:
    name: str  # file name under <slug>/_images/, from a hash of `data`
    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class Source:
    """An image file as the build read it: what the manifest records of it."""

    written: str  # the path as the merchant file gives it
    mtime_ns: int
    size: int
    digest: str  # sha256 of the bytes
    data: bytes


class ImageProblem(Exception):
    """Why a merchant's image cannot be published, for the error at its key."""


def locate(merchant_file: Path, written: str) -> Path:
    """The file `written` names, beside `merchant_file`; it must stay in that folder."""
    folder = merchant_file.parent
    if (not written.strip() or not written.isprintable() or os.path.isabs(written)
            or "\\" in written or len(written) > MAX_PATH_CHARS):
        raise ImageProblem(f"must be a path from the folder of the merchant file, such as "
                           f"photo.jpg or images/photo.jpg, got {quoted(written)}")
    path = folder / written
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        raise ImageProblem(f"{written!r} leads outside the sites folder; keep images beside "
                           "the merchant file") from None
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long for the system
        raise ImageProblem(f"{written!r}: cannot read: {getattr(exc, 'strerror', None) or exc}"
                           ) from None
    if not os.path.exists(path):
        raise ImageProblem(f"{written!r}: no such file beside the merchant file")
    if not os.path.isfile(path):
        raise ImageProblem(f"{written!r} is not a file")
    return path


def quoted(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:40]) + f"... ({len(text):,} characters)"


def read(merchant_file: Path, written: str) -> Source:
    """The image file's bytes; its stat is taken first, so that an edit made while it is
    read shows as a change to the next build."""
    path = locate(merchant_file, written)
    try:
        stat = path.stat()
        if stat.st_size > MAX_BYTES:
            raise ImageProblem(f"{written!r}: {stat.st_size:,} bytes, the limit for an image "
                               f"is {MAX_BYTES:,}")
        data = path.read_bytes()
    except OSError as exc:
        raise ImageProblem(f"{written!r}: cannot read: {exc.strerror}") from None
    return Source(written, stat.st_mtime_ns, stat.st_size, hashlib.sha256(data).hexdigest(), data)


def variants(source: Source, kind: Kind, cache: Path | None) -> tuple[Variant, ...]:
    """The published sizes of an image (a photo: narrowest first; a logo: header, favicon),
    from the cache when this recipe made them before, else decoded and encoded now."""
    key = f"{source.digest}-{kind}-{RECIPE}"
    if cache is not None and (kept := _cached(cache, key)) is not None:
        return kept
    made = _encode(_decode(source), kind)
    if cache is not None:
        _store(cache, key, made)
    return made


def check(source: Source) -> None:
    """Raise ImageProblem unless the bytes are a whole image Pillow may read."""
    _decode(source)


def _decode(source: Source):  # -> PIL.Image.Image; Pillow is imported only here
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(source.data), formats=FORMATS)
        if image.width * image.height > MAX_PIXELS:
            raise ImageProblem(f"{source.written!r}: {image.width:,} x {image.height:,} pixels, "
                               f"the limit is {MAX_PIXELS:,} pixels")
        image.load()
        return ImageOps.exif_transpose(image)
    except UnidentifiedImageError:
        raise ImageProblem(f"{source.written!r} is not a {FORMAT_NAMES} image") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageProblem(f"{source.written!r}: a damaged image ({exc})") from None


def _encode(image, kind: Kind) -> tuple[Variant, ...]:
    from PIL import Image

    # A colour profile is kept where the pixels stay in its colour space (RGB).
    icc = image.info.get("icc_profile") if image.mode in ("RGB", "RGBA") else None
    image = image.convert("RGBA")
    transparent = image.getchannel("A").getextrema()[0] < 255
    if not transparent and kind == "photo":
        image = image.convert("RGB")
    if kind == "photo":
        widths = sorted({min(w, image.width) for w in PHOTO_WIDTHS})
        return tuple(_save(_resized(image, w, round(image.height * w / image.width)),
                           "PNG" if transparent else "JPEG", icc) for w in widths)
    scale = min(1.0, LOGO_HEIGHT / image.height, LOGO_MAX_WIDTH / image.width)
    header = _resized(image, max(1, round(image.width * scale)),
                      max(1, round(image.height * scale)))
    icon = image.copy()
    icon.thumbnail((FAVICON_SIZE, FAVICON_SIZE), Image.Resampling.LANCZOS)
    square = Image.new("RGBA", (FAVICON_SIZE, FAVICON_SIZE), (0, 0, 0, 0))
    square.paste(icon, ((FAVICON_SIZE - icon.width) // 2, (FAVICON_SIZE - icon.height) // 2))
    return _save(header, "PNG", icc), _save(square, "PNG", icc)


def _resized(image, width: int, height: int):
    from PIL import Image

    if (width, height) == image.size:
        return image
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


def _save(image, fmt: str, icc: bytes | None) -> Variant:
    out = io.BytesIO()
    options: dict = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        options.update(quality=JPEG_QUALITY, optimize=True, progressive=True)
    else:
        options.update(optimize=True)
    image.save(out, fmt, **options)
    data = out.getvalue()
    suffix = "jpg" if fmt == "JPEG" else "png"
    return Variant(f"{hashlib.sha256(data).hexdigest()[:16]}.{suffix}", image.width,
                   image.height, data)


# --- the cache: <key>.json lists the variants, each kept as a file by its name -------

def _cached(cache: Path, key: str) -> tuple[Variant, ...] | None:
    try:
        listed = json.loads((cache / f"{key}.json").read_bytes())
        found = []
        for name, width, height in listed:
            data = (cache / name).read_bytes()
            if not name.startswith(hashlib.sha256(data).hexdigest()[:16] + "."):
                return None  # damaged: made again
            found.append(Variant(name, width, height, data))
        return tuple(found)
    except (OSError, ValueError, TypeError):
        return None


def _store(cache: Path, key: str, made: tuple[Variant, ...]) -> None:
    """Keep what was made, each file written whole (workers may store at once); a cache
    that cannot be written only costs the next build the encoding."""
    try:
        (cache / UNFINISHED).mkdir(parents=True, exist_ok=True)
        for variant in made:
            _write_whole(cache, variant.name, variant.data)
        listed = [[v.name, v.width, v.height] for v in made]
        _write_whole(cache, f"{key}.json", json.dumps(listed).encode())
    except OSError:
        pass


def _write_whole(cache: Path, name: str, data: bytes) -> None:
    """Write in the cache's folder of unfinished files (a killed build's are deleted by
    the next), then move into place."""
    fd, temporary = tempfile.mkstemp(dir=cache / UNFINISHED)
    path = cache / name
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
