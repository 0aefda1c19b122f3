"""Keypad digits (DTMF) decoded from call audio, and synthesised for tests.

docs/phone-line.md §4: platforms that send recordings instead of keypad events still let the
caller type; the digits are decoded from the audio here. Pure functions over samples: 8 kHz or
16 kHz mono 16-bit PCM, as a list of samples or a WAV file.

How a digit is recognised
-------------------------
The signal is cut into windows of 12.75 ms (102 samples at 8 kHz as in Asterisk's detector,
204 at 16 kHz), one every 3.2 ms. The window's resolution, 78 Hz, puts each row frequency near
the first zero of its neighbours' response (697 and 770 Hz are 73 Hz apart) while tolerating
the ±1.5 % frequency error ITU-T Q.24 asks a receiver to accept. In each window a Goertzel filter
measures the energy at the four row (697, 770, 852, 941 Hz) and four column (1209, 1336, 1477,
1633 Hz) frequencies. A window holds a key when all of these hold:

- level: the strongest row and the strongest column tones each reach `_MIN_AMPLITUDE`;
- dominance: each is at least `_DOMINANCE_DB` above the other frequencies of its group;
- twist: the column tone is at most `_MAX_TWIST_DB` above the row tone, and the row tone at most
  `_MAX_REVERSE_TWIST_DB` above the column tone (ITU-T Q.24 asks a receiver to accept about
  8 and 4 dB; the reverse limit is a little wider for handsets with a weak high group);
- purity: the two tones carry at least `_MIN_PURITY` of the window's energy. This rejects
  speech and music (energy spread over many frequencies), tones 3 % or more off the DTMF
  frequencies, and windows only partly covered by a tone, which makes the duration measurable.

A key is reported once when consecutive windows holding it span at least `min_tone_ms` (40 ms by
default: tones of 40 ms and more are accepted, tones of 30 ms and less are not). In white noise,
40 ms tones are still found at a signal-to-noise ratio of 10 dB and 50 ms tones at 6 dB. Runs of
windows without a key shorter than `min_gap_ms` are bridged, so a brief dropout in noise does not
split a tone; the same key is reported again only after a gap of about `min_gap_ms` or more
("1100" needs pauses between the repeated ones, as on a real keypad). A different key may follow
without a gap.
"""

from __future__ import annotations

import io
import math
import os
import random
import sys
import wave
from array import array
from collections.abc import Sequence
from os import PathLike
from typing import BinaryIO

__all__ = ["decode_dtmf", "decode_dtmf_wav", "generate_dtmf", "samples_to_wav"]

ROWS: tuple[float, ...] = (697.0, 770.0, 852.0, 941.0)
COLUMNS: tuple[float, ...] = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS: tuple[str, ...] = ("123A", "456B", "789C", "*0#D")  # KEYS[row][column]
_KEY_TONES: dict[str, tuple[float, float]] = {
    key: (row, column)
    for row, keys in zip(ROWS, KEYS, strict=True)
    for column, key in zip(COLUMNS, keys, strict=True)
}

_WINDOW_S = 0.01275
_HOPS_PER_WINDOW = 4
_MIN_AMPLITUDE = 150.0  # of 32767: about -47 dBFS for each tone
_DOMINANCE_DB = 8.0
_MAX_TWIST_DB = 8.0
_MAX_REVERSE_TWIST_DB = 6.0
_MIN_PURITY = 0.7  # chosen with the duration, frequency and noise cases in the tests
_SUPPORTED_RATES = range(8000, 48001)
_INT16_MIN, _INT16_MAX = -32768, 32767


def _goertzel_power(window: Sequence[int], coefficient: float) -> float:
    """|X(f)|² of the window at the frequency whose coefficient is 2·cos(2πf/fs)."""
    s1 = s2 = 0.0
    for x in window:
        s1, s2 = x + coefficient * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coefficient * s1 * s2


def _key_in(window: Sequence[int], coefficients: Sequence[float]) -> str | None:
    """The key whose two tones this window holds, or None (checks in the module docstring)."""
    energy = sum(x * x for x in window)  # exact: integer samples
    if energy == 0:
        return None
    n = len(window)
    # 2|X|²/n is the energy of a sinusoid filling the window, comparable with `energy`.
    tones = [2 * _goertzel_power(window, c) / n for c in coefficients]
    rows, columns = tones[:4], tones[4:]
    row = max(range(4), key=rows.__getitem__)
    column = max(range(4), key=columns.__getitem__)
    row_energy, column_energy = rows[row], columns[column]
    min_energy = _MIN_AMPLITUDE**2 * n / 2
    if row_energy < min_energy or column_energy < min_energy:
        return None
    dominance = 10 ** (_DOMINANCE_DB / 10)
    for group, strongest in ((rows, row), (columns, column)):
        if any(group[i] * dominance > group[strongest] for i in range(4) if i != strongest):
            return None
    if column_energy > row_energy * 10 ** (_MAX_TWIST_DB / 10):
        return None
    if row_energy > column_energy * 10 ** (_MAX_REVERSE_TWIST_DB / 10):
        return None
    if row_energy + column_energy < _MIN_PURITY * energy:
        return None
    return KEYS[row][column]


def decode_dtmf(
    samples: Sequence[int],
    sample_rate: int,
    *,
    min_tone_ms: float = 40.0,
    min_gap_ms: float = 20.0,
) -> str:
    """The keys pressed in the audio, in order: "0"-"9", "*", "#" and "A"-"D".

    `samples` are 16-bit PCM values of one channel. Silence, speech and tones shorter than
    `min_tone_ms` give no keys; see the module docstring for the rules."""
    if sample_rate not in _SUPPORTED_RATES:
        raise ValueError(f"Unsupported sample rate: {sample_rate} Hz")
    size = round(sample_rate * _WINDOW_S)
    hop = size // _HOPS_PER_WINDOW
    coefficients = [2 * math.cos(2 * math.pi * f / sample_rate) for f in (*ROWS, *COLUMNS)]
    min_span = min_tone_ms / 1000 * sample_rate
    bridge = math.ceil(min_gap_ms / 1000 * sample_rate / hop)  # windows without a key

    keys: list[str] = []
    current: str | None = None
    first = last = 0  # window start of the first and the last window holding `current`
    reported = False
    for start in range(0, len(samples) - size + 1, hop):
        key = _key_in(samples[start : start + size], coefficients)
        if key is None:
            if current is not None and (start - last) // hop >= bridge:
                current = None
            continue
        if key != current:
            current, first, reported = key, start, False
        last = start
        if not reported and last - first + size >= min_span:
            keys.append(key)
            reported = True
    return "".join(keys)


def decode_dtmf_wav(source: bytes | str | PathLike[str] | BinaryIO, **options: float) -> str:
    """decode_dtmf() over a WAV recording: the bytes, a path or an open binary file.

    The recording must be 16-bit PCM mono; keyword options go to decode_dtmf()."""
    opened: str | BinaryIO
    if isinstance(source, bytes):
        opened = io.BytesIO(source)
    elif isinstance(source, str | PathLike):
        opened = os.fspath(source)  # wave.open() takes a str path, not a PathLike
    else:
        opened = source
    with wave.open(opened, "rb") as recording:
        if recording.getsampwidth() != 2 or recording.getnchannels() != 1:
            raise ValueError("Expected a 16-bit mono PCM WAV recording")
        sample_rate = recording.getframerate()
        samples = array("h")
        samples.frombytes(recording.readframes(recording.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()  # WAV data is little-endian
    return decode_dtmf(samples, sample_rate, **options)


def generate_dtmf(
    digits: str,
    sample_rate: int = 8000,
    tone_ms: float = 70.0,
    gap_ms: float = 50.0,
    amplitude: float = 6000.0,
    noise: float = 0.0,
    *,
    twist_db: float = 0.0,
    seed: int = 0,
) -> list[int]:
    """Keypad tones for `digits` as 16-bit samples: for tests of the decoder and the phone line.

    Each key sounds for `tone_ms` (both tones at `amplitude`, the column tone raised by
    `twist_db`), with `gap_ms` of silence before the first key, between keys and after the last.
    `noise` is the standard deviation of white Gaussian noise added throughout, from a generator
    seeded with `seed`, so a test is repeatable. Samples are clipped to the 16-bit range."""
    tone_length = round(tone_ms / 1000 * sample_rate)
    gap = [0.0] * round(gap_ms / 1000 * sample_rate)
    column_amplitude = amplitude * 10 ** (twist_db / 20)
    signal: list[float] = list(gap)
    for digit in digits.upper():
        if digit not in _KEY_TONES:
            raise ValueError(f"Not a keypad key: {digit!r}")
        row, column = _KEY_TONES[digit]
        signal.extend(
            amplitude * math.sin(2 * math.pi * row * n / sample_rate)
            + column_amplitude * math.sin(2 * math.pi * column * n / sample_rate)
            for n in range(tone_length)
        )
        signal.extend(gap)
    if noise:
        rng = random.Random(seed)  # noqa: S311 - test signal, not cryptography
        signal = [x + rng.gauss(0.0, noise) for x in signal]
    return [min(_INT16_MAX, max(_INT16_MIN, round(x))) for x in signal]


def samples_to_wav(samples: Sequence[int], sample_rate: int) -> bytes:
    """16-bit mono PCM WAV bytes of the samples."""
    data = array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as recording:
        recording.setnchannels(1)
        recording.setsampwidth(2)
        recording.setframerate(sample_rate)
        recording.writeframes(data.tobytes())
    return buffer.getvalue()
