#!/usr/bin/env python3
"""PNG fixtures for aigc's PNG reader, written with struct + zlib only (PNG spec, 3rd edition).

Every image is written by an independent encoder below (its own filters, chunking and CRCs), and the
pixels the reader must produce are stored beside it, already converted the way aigc converts:
8-bit output, 16-bit samples rounded (v * 255 + 32767) // 65535, 1/2/4-bit gray scaled to 0...255,
palettes expanded to RGB (RGBA when tRNS is present), a tRNS colour key on gray/RGB adding an alpha
channel. Filter types cycle None, Sub, Up, Average, Paeth row by row, so every image uses all five.

Writes Tests/Fixtures/png/<name>.png, <name>.raw (expected pixels, row-major, channels interleaved)
and cases.json: width, height, channels, colour type, bit depth, expected text chunks, and for the
broken files the chunk their error must name. When Pillow imports, its decoding is checked against
ours (a second opinion). Run from the repository root: python3 scripts/reference/make_png_fixtures.py
"""
import json
import os
import random
import struct
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "png")
SEED = 45438
SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunk(kind, data, crc=None):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) if crc is None else crc)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filter_rows(rows, bpp):
    """Filters each row with type (row index % 5), as the spec defines them on bytes."""
    out = bytearray()
    prior = bytes(len(rows[0]))
    for y, row in enumerate(rows):
        kind = y % 5
        out.append(kind)
        for i, x in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prior[i]
            c = prior[i - bpp] if i >= bpp else 0
            predictor = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
            out.append((x - predictor) & 0xFF)
        prior = row
    return bytes(out)


def pack_samples(samples, depth):
    """One row of samples at `depth` bits, most significant bits first, padded to a byte."""
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    out, acc, bits = bytearray(), 0, 0
    for s in samples:
        acc, bits = (acc << depth) | s, bits + depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def encode(width, height, color, depth, rows, extra=b"", texts=(), idat_pieces=1, interlace=0):
    bpp = max(1, CHANNELS[color] * depth // 8)
    raw = zlib.compress(filter_rows([pack_samples(r, depth) for r in rows], bpp), 9)
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace)
    data = SIGNATURE + chunk(b"IHDR", ihdr) + extra
    for t in texts:
        data += t
    step = -(-len(raw) // idat_pieces)
    for i in range(0, len(raw), step):
        data += chunk(b"IDAT", raw[i:i + step])
    return data + chunk(b"IEND", b"")


def to8(v, depth):
    if depth == 16:
        return (v * 255 + 32767) // 65535
    return v * 255 // ((1 << depth) - 1)


def write(cases, name, png, width, height, channels, expected, **info):
    with open(os.path.join(OUT, name + ".png"), "wb") as f:
        f.write(png)
    if expected is not None:
        with open(os.path.join(OUT, name + ".raw"), "wb") as f:
            f.write(bytes(expected))
    cases[name] = dict(width=width, height=height, channels=channels, **info)


def plain_cases(rng, cases):
    for color, depth, (w, h) in [(0, 8, (13, 11)), (2, 8, (9, 10)), (4, 8, (7, 6)), (6, 8, (11, 7)), (0, 16, (5, 6)),
                                 (2, 16, (6, 5)), (4, 16, (3, 5)), (6, 16, (4, 5)), (0, 1, (19, 5)), (0, 2, (9, 5)), (0, 4, (7, 6))]:
        n = CHANNELS[color]
        rows = [[rng.randrange(1 << depth) for _ in range(w * n)] for _ in range(h)]
        expected = [to8(s, depth) for r in rows for s in r]
        name = f"color{color}_depth{depth}"
        write(cases, name, encode(w, h, color, depth, rows), w, h, n, expected, colorType=color, bitDepth=depth)


def palette_and_transparency_cases(rng, cases):
    for depth, (w, h), trns in [(8, (10, 6), False), (4, (7, 5), True), (2, (6, 5), False), (1, (17, 5), True)]:
        colors = 1 << depth if depth < 8 else 200
        palette = [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(colors)]
        alphas = [rng.randrange(256) for _ in range(colors - 1)] if trns else []  # shorter than PLTE: the rest are opaque
        rows = [[rng.randrange(colors) for _ in range(w)] for _ in range(h)]
        extra = chunk(b"PLTE", b"".join(bytes(c) for c in palette))
        if trns:
            extra += chunk(b"tRNS", bytes(alphas))
        expected = []
        for r in rows:
            for i in r:
                expected += list(palette[i]) + ([alphas[i] if i < len(alphas) else 255] if trns else [])
        name = f"palette_depth{depth}" + ("_trns" if trns else "")
        write(cases, name, encode(w, h, 3, depth, rows, extra), w, h, 4 if trns else 3, expected, colorType=3, bitDepth=depth)
    # Colour keys: gray 8-bit key 77 and RGB 16-bit key; pixels equal to the key become transparent.
    rows = [[77 if (x + y) % 3 == 0 else rng.randrange(256) for x in range(6)] for y in range(5)]
    expected = [v for r in rows for s in r for v in (s, 0 if s == 77 else 255)]
    write(cases, "gray_trns_key", encode(6, 5, 0, 8, rows, chunk(b"tRNS", struct.pack(">H", 77))), 6, 5, 2, expected, colorType=0, bitDepth=8)
    key = (1000, 2000, 3000)
    rows = [sum([list(key) if (x * y) % 4 == 1 else [rng.randrange(65536) for _ in range(3)] for x in range(4)], []) for y in range(4)]
    expected = []
    for r in rows:
        for x in range(4):
            px = r[3 * x:3 * x + 3]
            expected += [to8(s, 16) for s in px] + [0 if tuple(px) == key else 255]
    write(cases, "rgb16_trns_key", encode(4, 4, 2, 16, rows, chunk(b"tRNS", struct.pack(">HHH", *key))), 4, 4, 4, expected, colorType=2, bitDepth=16)


def text_case(rng, cases):
    label = '{"Label":"1","ContentProducer":"aigc-test","ProduceID":"fixture-0001","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}'
    texts = [
        ("tEXt", "Title", "Caf\u00e9 at night", "", ""),
        ("zTXt", "Comment", "compressed comment " * 8, "", ""),
        ("iTXt", "AIGC", label, "", ""),
        ("iTXt", "Description", "\u4eba\u5de5\u667a\u80fd\u751f\u6210 (AI generated)", "zh-CN", "\u63cf\u8ff0"),
        ("iTXtz", "Software", "aigc fixture script \u2713" * 4, "en", ""),
    ]
    chunks = []
    for kind, key, text, lang, translated in texts:
        k = key.encode("latin-1")
        if kind == "tEXt":
            chunks.append(chunk(b"tEXt", k + b"\0" + text.encode("latin-1")))
        elif kind == "zTXt":
            chunks.append(chunk(b"zTXt", k + b"\0\0" + zlib.compress(text.encode("latin-1"))))
        else:
            compressed = kind == "iTXtz"
            body = text.encode()
            body = zlib.compress(body) if compressed else body
            chunks.append(chunk(b"iTXt", k + b"\0" + bytes([int(compressed), 0]) + lang.encode() + b"\0" + translated.encode() + b"\0" + body))
    rows = [[rng.randrange(256) for _ in range(3 * 5)] for _ in range(4)]
    png = encode(5, 4, 2, 8, rows, texts=chunks[:3], idat_pieces=4)
    png = png[:-12] + b"".join(chunks[3:]) + png[-12:]  # text after IDAT is legal too
    write(cases, "text_chunks", png, 5, 4, 3, [s for r in rows for s in r], colorType=2, bitDepth=8,
          texts=[{"kind": k[:4], "keyword": key, "text": t, "languageTag": lang, "translatedKeyword": tr, "compressed": k == "iTXtz" or k == "zTXt"}
                 for k, key, t, lang, tr in texts])


def broken_cases(rng, cases):
    rows = [[rng.randrange(256) for _ in range(4)] for _ in range(4)]
    good = encode(4, 4, 0, 8, rows)
    idat = good.index(b"IDAT") - 4
    broken = {
        "bad_signature": (b"\x89PNG\r\n\x1b\n" + good[8:], "signature"),
        "bad_crc_ihdr": (good[:29] + bytes([good[29] ^ 1]) + good[30:], "IHDR"),
        "truncated_idat": (good[:idat + 8 + 5], "IDAT"),
        "short_zlib_idat": (SIGNATURE + good[8:33] + chunk(b"IDAT", zlib.compress(bytes(20))[:-6]) + chunk(b"IEND", b""), "IDAT"),
        "absurd_dimensions": (SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 6, 0, 0, 0)) + good[33:], "IHDR"),
        "unknown_critical": (good[:33] + chunk(b"ABCD", b"xyz") + good[33:], "ABCD"),
        "interlaced": (encode(4, 4, 0, 8, rows, interlace=1), "IHDR"),
        "missing_iend": (good[:-12], "IEND"),
        "bad_filter": (SIGNATURE + good[8:33] + chunk(b"IDAT", zlib.compress(bytes([7] + [0] * 4) * 4)) + chunk(b"IEND", b""), "IDAT"),
        "palette_index_out_of_range": (SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 1, 8, 3, 0, 0, 0)) + chunk(b"PLTE", bytes(6))
                                       + chunk(b"IDAT", zlib.compress(bytes([0, 1, 5]))) + chunk(b"IEND", b""), "PLTE"),
        # 20 MiB of zeros in about 20 KiB: a zTXt bomb, past the reader's 16 MiB text limit.
        "ztxt_bomb": (good[:33] + chunk(b"zTXt", b"Comment\0\0" + zlib.compress(bytes(20 << 20), 9)) + good[33:], "zTXt"),
    }
    for name, (png, mention) in broken.items():
        write(cases, name, png, 0, 0, 0, None, error=mention)


def pillow_check(cases):
    try:
        from PIL import Image
    except ImportError:
        print("Pillow not importable: skipping the second opinion")
        return None
    import PIL
    for name, info in cases.items():
        if "error" in info or info["bitDepth"] == 16 or "trns_key" in name:
            continue  # Pillow keeps 16-bit samples / keys in modes that do not map 1:1 to ours
        image = Image.open(os.path.join(OUT, name + ".png"))
        mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[info["channels"]]
        with open(os.path.join(OUT, name + ".raw"), "rb") as f:
            assert image.convert(mode).tobytes() == f.read(), name
        if "texts" in info:
            assert image.text == {t["keyword"]: t["text"] for t in info["texts"]}, name
    return PIL.__version__


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(SEED)
    cases = {}
    plain_cases(rng, cases)
    palette_and_transparency_cases(rng, cases)
    text_case(rng, cases)
    broken_cases(rng, cases)
    pillow = pillow_check(cases)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"seed": SEED, "zlib": zlib.ZLIB_VERSION, "pillow": pillow, "cases": cases}, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
