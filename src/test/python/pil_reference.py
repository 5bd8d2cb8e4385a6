#!/usr/bin/env python3
"""Makes the reference outputs that ImagePreprocessorPilTest compares against.

Independent of labelstream's Java code: it builds each test image from the same integer formula the Java test
uses, then applies torchvision's ImageNet evaluation transform with Pillow (Resize(256) = Image.resize with
BILINEAR, which Pillow antialiases when shrinking; CenterCrop(224) with Python's round). It writes the cropped
8-bit RGB pixels (before ToTensor/Normalize), as gzip'd raw HWC bytes.

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


def main():
    os.makedirs(OUT, exist_ok=True)
    for w, h in SIZES:
        out = transform(make(w, h))
        path = os.path.join(OUT, f"formula-{w}x{h}.rgb.gz")
        with gzip.GzipFile(path, "wb", mtime=0) as f:
            f.write(out.tobytes())
        print(path, file=sys.stderr)
    import PIL
    with open(os.path.join(OUT, "VERSION"), "w") as f:
        f.write(f"Pillow {PIL.__version__}\n")


if __name__ == "__main__":
    main()
