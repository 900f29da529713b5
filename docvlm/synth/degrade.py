"""Scan degradations with OpenCV: the page as a photocopier, scanner or thermal printer
leaves it. Each function takes and returns a uint8 gray image; :func:`degrade` draws a random
mix (deterministic for a given ``random.Random``)."""

from __future__ import annotations

import random

import cv2
import numpy as np


def gaussian_noise(img: np.ndarray, r: random.Random, sigma: float) -> np.ndarray:
    rng = np.random.default_rng(r.getrandbits(32))
    return np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def salt_pepper(img: np.ndarray, r: random.Random, amount: float) -> np.ndarray:
    rng = np.random.default_rng(r.getrandbits(32))
    out = img.copy()
    m = rng.random(img.shape)
    out[m < amount / 2] = 0
    out[m > 1 - amount / 2] = 255
    return out


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), sigma)


def rotate(img: np.ndarray, angle: float) -> np.ndarray:
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(img, m, (w, h), borderValue=255, flags=cv2.INTER_LINEAR)


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else img


def uneven_light(img: np.ndarray, r: random.Random, strength: float) -> np.ndarray:
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = r.uniform(-0.5, 1.5) * w, r.uniform(-0.5, 1.5) * h
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / max(h, w)
    light = 1.0 - strength * np.clip(d, 0, 1.5) / 1.5
    return np.clip(img.astype(np.float32) * light, 0, 255).astype(np.uint8)


def fade(img: np.ndarray, amount: float) -> np.ndarray:
    """Lighter ink (thermal receipts, toner running out): ink moves towards paper."""
    f = img.astype(np.float32)
    return np.clip(255 - (255 - f) * (1 - amount), 0, 255).astype(np.uint8)


def thermal_streaks(img: np.ndarray, r: random.Random) -> np.ndarray:
    """Vertical lighter streaks from a worn thermal print head."""
    w = img.shape[1]
    out = img.astype(np.float32)
    for _ in range(r.randint(1, 4)):
        x0 = r.randrange(w)
        width = r.randint(1, max(2, w // 60))
        out[:, x0 : x0 + width] = 255 - (255 - out[:, x0 : x0 + width]) * r.uniform(0.3, 0.8)
    return out.astype(np.uint8)


def low_resolution(img: np.ndarray, factor: float) -> np.ndarray:
    h, w = img.shape
    small = cv2.resize(img, (max(1, int(w / factor)), max(1, int(h / factor))),
                       interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def paper_tone(img: np.ndarray, level: int) -> np.ndarray:
    """Grey or yellowed paper: white becomes ``level``."""
    return (img.astype(np.float32) * (level / 255.0)).astype(np.uint8)


def degrade(img: np.ndarray, r: random.Random, strength: float = 1.0,
            rotate_max: float = 1.5, glyph: float | None = None
            ) -> tuple[np.ndarray, list[str]]:
    """A random mix of degradations; ``strength`` 0 returns the image unchanged. Returns the
    image and the names of the steps applied. ``glyph`` (the text's median glyph height in
    pixels, training lines): half the blurs scale with the text, 3-12 % of a glyph (a
    phone photo's soft focus on small print), where a fixed 0.4-1.1 px is a few percent of
    most rendered glyphs."""
    steps = []
    if strength <= 0:
        return img, steps
    p = min(1.0, strength)
    if r.random() < 0.35 * p:
        img = paper_tone(img, r.randint(200, 245))
        steps.append("paper")
    if r.random() < 0.3 * p:
        img = fade(img, r.uniform(0.2, 0.55))
        steps.append("fade")
    if r.random() < 0.15 * p:
        img = thermal_streaks(img, r)
        steps.append("streaks")
    if r.random() < 0.3 * p:
        img = uneven_light(img, r, r.uniform(0.1, 0.35))
        steps.append("light")
    if rotate_max > 0 and r.random() < 0.4 * p:
        img = rotate(img, r.uniform(-rotate_max, rotate_max))
        steps.append("rotate")
    if r.random() < 0.4 * p:
        if glyph and r.random() < 0.5:
            img = blur(img, glyph * r.uniform(0.03, 0.12))
            steps.append("soft")
        else:
            img = blur(img, r.uniform(0.4, 1.1))
            steps.append("blur")
    if r.random() < 0.25 * p:
        img = low_resolution(img, r.uniform(1.3, 2.0))
        steps.append("lowres")
    if r.random() < 0.5 * p:
        img = gaussian_noise(img, r, r.uniform(3, 14))
        steps.append("noise")
    if r.random() < 0.1 * p:
        img = salt_pepper(img, r, r.uniform(0.001, 0.006))
        steps.append("specks")
    if r.random() < 0.5 * p:
        img = jpeg(img, r.randint(30, 85))
        steps.append("jpeg")
    return img, steps
