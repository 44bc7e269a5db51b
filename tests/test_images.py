"""Product photos and store logos: checked at their key, published in two sizes under
names made from their bytes, with width and height; cached by content, so that an
unchanged image is never encoded again and a changed one re-renders its site."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from conftest import ROOT, VALID, soup
from generator import pipeline

# VALID with a second product, so that the store page has one above and one below the fold.
TWO_PRODUCTS = VALID + "  - slug: carrot-5kg\n    name: 당근5kg\n    amount: 1004\n"


def jpeg(width: int, height: int, color: tuple[int, int, int] = (240, 120, 20), **save) -> bytes:
    """A photo-like JPEG: a gradient, so that it is no single colour."""
    image = Image.new("RGB", (width, height), color)
    for x in range(0, width, 8):
        image.paste((color[0], (color[1] + x) % 256, color[2]), (x, 0, x + 4, height))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, **save)
    return out.getvalue()


def png(width: int, height: int, alpha: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (20, 120, 60, alpha)).save(out, "PNG")
    return out.getvalue()


def site_with(tmp_path: Path, text: str, files: dict[str, bytes]) -> Path:
    sites = tmp_path / "sites"
    sites.mkdir(exist_ok=True)
    (sites / "shop.yaml").write_text(text, encoding="utf-8")
    for name, data in files.items():
        (sites / name).parent.mkdir(parents=True, exist_ok=True)
        (sites / name).write_bytes(data)
    return sites


def with_photo(text: str, name: str, index: int = 0) -> str:
    """`text` with `image: name` on its product number `index` (after its amount)."""
    amounts = ["    amount: 1003\n", "    amount: 1004\n"]
    return text.replace(amounts[index], amounts[index] + f"    image: {name}\n")


def with_logo(text: str, name: str) -> str:
    return text.replace("  name: 케이에스페이(주)\n", f"  name: 케이에스페이(주)\n  logo: {name}\n")


def published(out: Path) -> dict[str, bytes]:
    folder = out / "shop" / "_images"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def size_of(data: bytes) -> tuple[str, int, int]:
    image = Image.open(io.BytesIO(data))
    return image.format, image.width, image.height


def test_a_photo_gets_a_phone_and_a_desktop_size_with_hashed_names(tmp_path: Path) -> None:
    photo = jpeg(1600, 1200)
    sites = site_with(tmp_path, with_photo(TWO_PRODUCTS, "carrot.jpg"), {"carrot.jpg": photo})
    out = tmp_path / "_site"
    pipeline.build(sites, out)
    files = published(out)
    for name, data in files.items():
        assert name == hashlib.sha256(data).hexdigest()[:16] + ".jpg"
    by_width = sorted(files, key=lambda n: size_of(files[n])[1])
    assert [size_of(files[n]) for n in by_width] == [("JPEG", 720, 540), ("JPEG", 1280, 960)]
    phone, desktop = by_width
    img = soup(out / "shop" / "carrot-10kg" / "index.html").find("img", class_="photo")
    assert {k: img.get(k) for k in ("src", "srcset", "sizes", "width", "height", "alt", "loading")} == {
        "src": f"../../shop/_images/{phone}",
        "srcset": f"../../shop/_images/{phone} 720w, ../../shop/_images/{desktop} 1280w",
        "sizes": "(min-width: 40rem) 38rem, calc(100vw - 2rem)",
        "width": "720", "height": "540", "alt": "당근10kg", "loading": None}


def test_the_store_page_loads_only_the_first_products_photo_eagerly(tmp_path: Path) -> None:
    text = with_photo(with_photo(TWO_PRODUCTS, "a.jpg", 0), "b.jpg", 1)
    sites = site_with(tmp_path, text, {"a.jpg": jpeg(800, 600), "b.jpg": jpeg(900, 900)})
    out = tmp_path / "_site"
    pipeline.build(sites, out)
    imgs = soup(out / "shop" / "index.html").select("ul.products img.photo")
    assert [(i["alt"], i["width"], i["height"], i.get("loading")) for i in imgs] == [
        ("당근10kg", "720", "540", None), ("당근5kg", "720", "720", "lazy")]


def test_a_small_photo_is_never_enlarged(tmp_path: Path) -> None:
    sites = site_with(tmp_path, with_photo(VALID, "small.jpg"), {"small.jpg": jpeg(500, 400)})
    out = tmp_path / "_site"
    pipeline.build(sites, out)
    [(name, data)] = published(out).items()
    assert size_of(data) == ("JPEG", 500, 400)
    img = soup(out / "shop" / "carrot-10kg" / "index.html").find("img", class_="photo")
    assert (img["src"], img.get("srcset"), img["width"], img["height"]) == (
        f"../../shop/_images/{name}", None, "500", "400")


def test_a_transparent_photo_stays_png_and_an_opaque_png_becomes_jpeg(tmp_path: Path) -> None:
    sites = site_with(tmp_path, with_photo(with_photo(TWO_PRODUCTS, "clear.png", 0),
                                           "opaque.png", 1),
                      {"clear.png": png(1000, 500, 128), "opaque.png": png(1000, 500, 255)})
    out = tmp_path / "_site"
    pipeline.build(sites, out)
    store = soup(out / "shop" / "index.html")
    clear, opaque = [out / "shop" / i["src"].removeprefix("../shop/")
                     for i in store.select("img.photo")]
    assert (clear.suffix, size_of(clear.read_bytes())) == (".png", ("PNG", 720, 360))
    assert Image.open(clear).getpixel((10, 10))[3] == 128  # still half transparent
    assert (opaque.suffix, size_of(opaque.read_bytes())) == (".jpg", ("JPEG", 720, 360))


def test_a_phone_photo_is_turned_upright_and_loses_its_exif(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; shown rotated 90 degrees
    exif[0x010F] = "PhoneMaker"
    sites = site_with(tmp_path, with_photo(VALID, "upright.jpg"),
                      {"upright.jpg": jpeg(400, 300, exif=exif.tobytes())})
    out = tmp_path / "_site"
    pipeline.build(sites, out)
    [data] = published(out).values()
    image = Image.open(io.BytesIO(data))
    assert (image.width, image.height) == (300, 400)
    assert dict(image.getexif()) == {}


def test_a_logo_is_the_header_image_and_the_favicon_of_the_stores_pages(tmp_path: Path) -> None:
    sites = site_with(tmp_path, with_logo(VALID, "logo.png"), {"logo.png": png(600, 200, 255)})
    out = tmp_path / "_site"
    pipeline.build(sites, out)
    store = soup(out / "shop" / "index.html")
    logo = store.find("h1").find("img")
    assert (logo["class"], logo["alt"], logo["width"], logo["height"]) == (["logo"], "", "120", "40")
    assert store.find("h1").get_text() == "케이에스페이(주)"
    header = out / "shop" / logo["src"].removeprefix("../shop/")
    assert size_of(header.read_bytes()) == ("PNG", 240, 80)  # 40 px high at 2x
    icon = store.find("link", rel="icon")
    assert icon["type"] == "image/png"
    assert size_of((out / "shop" / icon["href"].removeprefix("../shop/")).read_bytes()) == (
        "PNG", 64, 64)
    order = soup(out / "shop" / "carrot-10kg" / "index.html")
    assert order.find("link", rel="icon")["href"] == "../" + icon["href"]
    assert order.select_one(".brand img.logo")["src"] == "../" + logo["src"]
    # Pages that are no store's keep the theme's icon.
    [theme_icon] = (out / "static").glob("favicon.*.svg")
    assert soup(out / "index.html").find("link", rel="icon")["href"] == f"./static/{theme_icon.name}"


@pytest.mark.parametrize(("written", "files", "message"), [
    ("missing.jpg", {}, "'missing.jpg': no such file beside the merchant file"),
    ("notes.jpg", {"notes.jpg": "배송 안내\n".encode()}, "'notes.jpg' is not a JPEG, PNG, WebP or GIF image"),
    ("cut.jpg", {"cut.jpg": jpeg(300, 200)[:400]}, "'cut.jpg': a damaged image (Truncated File Read)"),
    ("photo.bmp", {"photo.bmp": b"BM" + bytes(60)}, "'photo.bmp' is not a JPEG, PNG, WebP or GIF image"),
    ("../outside.jpg", {}, "'../outside.jpg' leads outside the sites folder; keep images beside the merchant file"),
    ("/etc/passwd", {}, "must be a path from the folder of the merchant file, such as photo.jpg or "
     "images/photo.jpg, got '/etc/passwd'"),
    ("pictures", {"pictures/a.jpg": jpeg(10, 10)}, "'pictures' is not a file"),
    ('"a\\0b.jpg"', {}, "must be a path from the folder of the merchant file, such as photo.jpg "
     "or images/photo.jpg, got 'a\\x00b.jpg'"),
    ("x" * 300, {}, "must be a path from the folder of the merchant file, such as photo.jpg or "
     "images/photo.jpg, got 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'... (300 characters)"),
])
def test_a_bad_image_is_an_error_at_its_key_and_nothing_is_written(
        tmp_path: Path, written: str, files: dict[str, bytes], message: str) -> None:
    (tmp_path / "outside.jpg").write_bytes(jpeg(100, 100))
    sites = site_with(tmp_path, with_photo(VALID, written), files)
    out = tmp_path / "_site"
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, out)
    [error] = failed.value.errors
    where = f"{sites / 'shop.yaml'}:9:12: products[0].image: "
    assert error.startswith(where + message), error
    assert not out.exists()
    # `check` finds the same, through the command line.
    checked = subprocess.run([sys.executable, str(ROOT / "build.py"), "check", str(sites)],
                             capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert checked.returncode == 1
    assert checked.stderr.splitlines()[0].startswith(
        f"{os.path.relpath(sites, tmp_path)}/shop.yaml:9:12: products[0].image: {message}")


def test_an_image_that_is_a_symlink_out_of_the_sites_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "secret.jpg").write_bytes(jpeg(100, 100))
    sites = site_with(tmp_path, with_logo(VALID, "logo.jpg"), {})
    (sites / "logo.jpg").symlink_to(tmp_path / "secret.jpg")
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, tmp_path / "_site")
    assert failed.value.errors == [
        f"{sites / 'shop.yaml'}:4:9: store.logo: 'logo.jpg' leads outside the sites folder; "
        "keep images beside the merchant file"]


def test_an_image_that_is_a_symlink_loop_is_an_error(tmp_path: Path) -> None:
    sites = site_with(tmp_path, with_photo(VALID, "loop.jpg"), {})
    (sites / "loop.jpg").symlink_to("loop.jpg")
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, tmp_path / "_site")
    assert failed.value.errors == [f"{sites / 'shop.yaml'}:9:12: products[0].image: "
                                   f"'loop.jpg': cannot read: Symlink loop from '{sites / 'loop.jpg'}'"]


def test_an_image_too_large_to_be_a_photo_is_refused_before_it_is_decoded(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("1", (9000, 6000)).save(out, "PNG")  # 54 megapixels in a few kilobytes
    sites = site_with(tmp_path, with_photo(VALID, "huge.png"), {"huge.png": out.getvalue()})
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, tmp_path / "_site")
    assert failed.value.errors == [
        f"{sites / 'shop.yaml'}:9:12: products[0].image: 'huge.png': 9,000 x 6,000 pixels, "
        "the limit is 50,000,000 pixels"]


def test_a_changed_image_re_renders_its_site_with_new_names(tmp_path: Path) -> None:
    sites = site_with(tmp_path, with_photo(VALID, "carrot.jpg"), {"carrot.jpg": jpeg(1600, 1200)})
    (sites / "other.yaml").write_text(VALID, encoding="utf-8")
    out = tmp_path / "_site"
    pipeline.build(sites, out)
    before = published(out)
    other = (out / "other" / "index.html").stat().st_ino
    (sites / "carrot.jpg").write_bytes(jpeg(1600, 1200, color=(30, 160, 40)))
    report = pipeline.build(sites, out)
    assert (report.rebuilt, report.pages) == (1, 2)  # shop's store and order page
    after = published(out)
    assert set(after).isdisjoint(before) and len(after) == 2
    img = soup(out / "shop" / "carrot-10kg" / "index.html").find("img", class_="photo")
    assert img["src"] == f"../../shop/_images/{min(after, key=lambda n: len(after[n]))}"
    assert (out / "other" / "index.html").stat().st_ino == other


def test_a_touched_image_renders_nothing(tmp_path: Path) -> None:
    sites = site_with(tmp_path, with_photo(VALID, "carrot.jpg"), {"carrot.jpg": jpeg(900, 600)})
    out = tmp_path / "_site"
    pipeline.build(sites, out)
    os.utime(sites / "carrot.jpg", ns=(1, 1))
    assert pipeline.build(sites, out).rebuilt == 0
    assert pipeline.build(sites, out).rebuilt == 0


def test_a_deleted_image_is_an_error_even_when_the_merchant_file_is_unchanged(tmp_path: Path) -> None:
    sites = site_with(tmp_path, with_photo(VALID, "carrot.jpg"), {"carrot.jpg": jpeg(900, 600)})
    out = tmp_path / "_site"
    pipeline.build(sites, out)
    (sites / "carrot.jpg").unlink()
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, out)
    assert failed.value.errors == [f"{sites / 'shop.yaml'}:9:12: products[0].image: "
                                   "'carrot.jpg': no such file beside the merchant file"]


# A build in a fresh process where Pillow (and segno) cannot be imported: what it
# publishes must come from the cache, or it fails.
WITHOUT_PILLOW = """\
import sys
sys.modules["PIL"] = None
sys.modules["segno"] = None
from generator import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def test_an_unchanged_image_is_not_encoded_again(tmp_path: Path) -> None:
    sites = site_with(tmp_path, with_photo(VALID, "carrot.jpg"), {"carrot.jpg": jpeg(1600, 1200)})
    out = tmp_path / "_site"
    pipeline.build(sites, out)
    before = published(out)
    yaml = sites / "shop.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("amount: 1003", "amount: 1100"),
                    encoding="utf-8")
    for extra in ([], ["--force"]):
        done = subprocess.run([sys.executable, "-c", WITHOUT_PILLOW, "build", "--sites",
                               str(sites), "--out", str(out), *extra],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        assert published(out) == before
    assert "1,100원" in (out / "shop" / "carrot-10kg" / "index.html").read_text(encoding="utf-8")
    # The proof holds: the same build with a new image needs Pillow.
    (sites / "carrot.jpg").write_bytes(jpeg(1600, 1200, color=(30, 160, 40)))
    done = subprocess.run([sys.executable, "-c", WITHOUT_PILLOW, "build", "--sites",
                           str(sites), "--out", str(out)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 1 and "import of PIL halted" in done.stderr


def test_the_cache_may_be_deleted_and_the_same_bytes_are_made_again(tmp_path: Path) -> None:
    sites = site_with(tmp_path, with_logo(with_photo(VALID, "carrot.jpg"), "logo.png"),
                      {"carrot.jpg": jpeg(1600, 1200), "logo.png": png(300, 100, 200)})
    first, second = tmp_path / "one" / "_site", tmp_path / "two" / "_site"
    pipeline.build(sites, first)
    cache = first.parent / ".kspay-_site.images"
    assert cache.is_dir()
    pipeline.build(sites, second)  # its own cache, encoded afresh
    assert published(first) == published(second) and len(published(first)) == 4
    shutil.rmtree(cache)
    report = pipeline.build(sites, first, force=True)
    assert (report.written, published(first)) == (0, published(second))
    assert cache.is_dir()  # made again
