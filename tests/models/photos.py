"""Real photographs as model inputs: the files tests/data/photos.txt names, from the directory
in $CAIRN_TEST_PHOTOS (`./cairn test` fills it from Debian's python3-skimage), decoded here.

The build root has no imaging library for Python, and these photos are all 8-bit,
non-interlaced PNGs (greyscale or RGB), so a small decoder for exactly that is enough; anything
else is refused by name. Each photo gives several views (the whole frame squashed to a square,
a centre square, the centre square mirrored, a zoomed corner), resized bilinearly, so the
checks see real textures at more than one scale.
"""
import hashlib
import os
import struct
import zlib

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIST = os.path.join(ROOT, "tests", "data", "photos.txt")


def listed():
    """[(file, sha256, licence)] from tests/data/photos.txt."""
    out = []
    with open(LIST, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, digest, licence = line.split(None, 2)
                out.append((name, digest, licence.strip()))
    return out


def _unfilter_row(kind, line, prev, bpp):
    """One row's bytes after PNG's Sub (1), Average (3) or Paeth (4) filter is undone; these
    depend on the byte one pixel to the left, so they go byte by byte."""
    cur = bytearray(len(line))
    for x, v in enumerate(line):
        left = cur[x - bpp] if x >= bpp else 0
        if kind == 1:
            pred = left
        elif kind == 3:
            pred = (left + prev[x]) >> 1
        else:
            up, upleft = prev[x], (prev[x - bpp] if x >= bpp else 0)
            p = left + up - upleft
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
            pred = left if pa <= pb and pa <= pc else (up if pb <= pc else upleft)
        cur[x] = (v + pred) & 255
    return cur


def decode_png(data, name="png"):
    """An 8-bit, non-interlaced greyscale or RGB PNG → uint8 [H, W, 3]."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{name}: not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise ValueError(f"{name}: no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"{name}: only 8-bit non-interlaced greyscale or RGB PNGs are read "
                         f"(depth {depth}, colour type {colour}, interlace {interlace})")
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8)
    stride = width * channels
    if raw.size != height * (stride + 1):
        raise ValueError(f"{name}: image data is {raw.size} bytes, expected "
                         f"{height * (stride + 1)}")
    rows = raw.reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prev = bytes(stride)
    for y in range(height):
        kind, line = int(rows[y, 0]), rows[y, 1:]
        if kind == 0:
            out[y] = line
        elif kind == 2:
            out[y] = line + np.frombuffer(prev, np.uint8)  # uint8 arithmetic wraps, as PNG's
        elif kind in (1, 3, 4):
            out[y] = np.frombuffer(_unfilter_row(kind, line.tobytes(), prev, channels), np.uint8)
        else:
            raise ValueError(f"{name}: row {y} has unknown filter {kind}")
        prev = out[y].tobytes()
    img = out.reshape(height, width, channels)
    return np.repeat(img, 3, axis=2) if channels == 1 else img


def resize(img, size):
    """Bilinear resize of uint8 [H, W, 3] to float32 [size, size, 3] (pixel centres aligned)."""
    h, w = img.shape[:2]
    ys = np.clip((np.arange(size) + 0.5) * h / size - 0.5, 0, h - 1)
    xs = np.clip((np.arange(size) + 0.5) * w / size - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    f = img.astype(np.float32)
    top = f[y0][:, x0] * (1 - fx) + f[y0][:, x1] * fx
    bottom = f[y1][:, x0] * (1 - fx) + f[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def views(img, size, count):
    """Up to `count` square views of one photo, each float32 [size, size, 3] in 0-255."""
    h, w = img.shape[:2]
    s = min(h, w)
    centre = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    z = s * 2 // 3
    out = [resize(centre, size), resize(img, size), resize(centre[:, ::-1], size),
           resize(img[:z, :z], size)]
    return out[:count]


def load(directory):
    """{file: uint8 [H, W, 3]} for every listed photo, each checked against its SHA-256."""
    photos = {}
    for name, digest, _ in listed():
        path = os.path.join(directory, name)
        with open(path, "rb") as f:
            data = f.read()
        got = hashlib.sha256(data).hexdigest()
        if got != digest:
            raise ValueError(f"{path}: SHA-256 {got}, tests/data/photos.txt has {digest}")
        photos[name] = decode_png(data, path)
    return photos


def model_inputs(task, directory, per_photo):
    """The listed photos as a pack's float32 input, the way image_int8.model_inputs feeds it:
    image-safety [N, 224, 224, 3] in [0, 1], image-tags [N, 512, 512, 3] in 0-255."""
    size, scale = {"image-safety": (224, 1 / 255.0), "image-tags": (512, 1.0)}[task]
    photos = load(directory)
    x = [v for name in sorted(photos) for v in views(photos[name], size, per_photo)]
    return np.stack(x).astype(np.float32) * np.float32(scale)
