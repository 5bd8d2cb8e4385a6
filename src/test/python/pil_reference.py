#!/usr/bin/env python3
"""Makes the reference outputs that ImagePreprocessorPilTest compares against.

Independent of labelstream's Java code: it builds each test image from the same integer formula the Java test
uses, then applies torchvision's ImageNet evaluation transform with Pillow (Resize(256) = Image.resize with
BILINEAR, which Pillow antialiases when shrinking; CenterCrop(224) with Python's round). It writes the cropped
8-bit RGB pixels (before ToTensor/Normalize), as gzip'd raw HWC bytes.

It also writes a few JPEGs (smooth photo-like content, as Pillow encodes them: baseline 4:2:0, progressive 4:4:4,
4:2:2, grey) with, for each, the pixels Pillow decodes (Image.open(...).convert("RGB")) and the transform's
crop of them (what torchvision sees for that file), both as PNG.

Run with Debian's Pillow:  apt-get install python3-pil && /usr/bin/python3 src/test/python/pil_reference.py
"""
import gzip
import os
import sys

from PIL import Image

SIZES = [(640, 480), (480, 640), (333, 500), (1000, 250), (300, 300), (224, 224), (100, 80), (257, 1031)]
OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "pil-reference")


def pixel(x, y, c, w, h):
    # Keep identical to ImagePreprocessorPilTest.pixel: high-frequency texture plus smooth ramps.
    return (x * 7 + y * 13 + c * 50 + ((x * y) % 17) * 9 + (x * 255) // w + (y * 128) // h) % 256


def make(w, h):
    data = bytearray(w * h * 3)
    i = 0
    for y in range(h):
        for x in range(w):
            for c in range(3):
                data[i] = pixel(x, y, c, w, h)
                i += 1
    return Image.frombytes("RGB", (w, h), bytes(data))


def transform(img, size=256, crop=224):
    w, h = img.size
    short, long_ = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long_ / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    img = img.resize((new_w, new_h), Image.BILINEAR)
    top = int(round((new_h - crop) / 2.0))
    left = int(round((new_w - crop) / 2.0))
    return img.crop((left, top, left + crop, top + crop))


JPEGS = [
    # name, size, mode, save options
    ("baseline-420", (400, 300), "RGB", dict(quality=90, subsampling=2)),
    ("progressive-444", (300, 400), "RGB", dict(quality=85, subsampling=0, progressive=True)),
    ("baseline-422", (320, 240), "RGB", dict(quality=75, subsampling=1)),
    ("grey", (300, 200), "L", dict(quality=90)),
]


def photo(w, h, mode):
    # Smooth gradients, a soft disc and a few hard edges: compresses like a photo, exercises chroma upsampling.
    data = bytearray()
    cx, cy, r2 = w * 0.6, h * 0.4, (min(w, h) * 0.3) ** 2
    for y in range(h):
        for x in range(w):
            inside = (x - cx) ** 2 + (y - cy) ** 2 < r2
            stripe = (x // 24 + y // 40) % 2 == 0 and y > h * 0.75
            rgb = ((x * 255) // w, (y * 255) // h, 200 if inside else (60 if stripe else 120))
            if mode == "L":
                data.append((rgb[0] + rgb[1] + rgb[2]) // 3)
            else:
                data.extend(rgb)
    return Image.frombytes(mode, (w, h), bytes(data))


def jpegs():
    for name, (w, h), mode, options in JPEGS:
        path = os.path.join(OUT, f"jpeg-{name}.jpg")
        photo(w, h, mode).save(path, "JPEG", **options)
        decoded = Image.open(path).convert("RGB")
        # PNG: lossless, and half the size of gzip'd raw bytes for these.
        decoded.save(os.path.join(OUT, f"jpeg-{name}.decoded.png"), optimize=True)
        transform(decoded).save(os.path.join(OUT, f"jpeg-{name}.crop.png"), optimize=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    for w, h in SIZES:
        out = transform(make(w, h))
        path = os.path.join(OUT, f"formula-{w}x{h}.rgb.gz")
        with gzip.GzipFile(path, "wb", mtime=0) as f:
            f.write(out.tobytes())
        print(path, file=sys.stderr)
    jpegs()
    import PIL
    from PIL import features
    with open(os.path.join(OUT, "VERSION"), "w") as f:
        f.write(f"Pillow {PIL.__version__}, libjpeg-turbo (API {features.version('jpg')})\n")


if __name__ == "__main__":
    main()
