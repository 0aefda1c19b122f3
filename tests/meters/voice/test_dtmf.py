"""Keypad digits decoded from audio (docs/phone-line.md §4): synthesised tones, with noise.

Signal-to-noise ratios are the power of the two tones against the power of the white noise."""

import io
import math
import wave

import pytest

from meters.voice.dtmf import decode_dtmf, decode_dtmf_wav, generate_dtmf, samples_to_wav

RATES = [8000, 16000]
KEYS = "0123456789*#"
AMPLITUDE = 6000


def tones(frequencies, ms, sample_rate, amplitudes=None, silence_ms=50):
    """A chord of sines with silence around it: speech-like and off-frequency test signals."""
    amplitudes = amplitudes or [AMPLITUDE] * len(frequencies)
    silence = [0] * round(silence_ms / 1000 * sample_rate)
    sound = [
        round(
            sum(
                a * math.sin(2 * math.pi * f * n / sample_rate)
                for f, a in zip(frequencies, amplitudes, strict=True)
            )
        )
        for n in range(round(ms / 1000 * sample_rate))
    ]
    return silence + sound + silence


def noise_for(snr_db):
    """Standard deviation of white noise giving this SNR against two tones of AMPLITUDE."""
    return AMPLITUDE / 10 ** (snr_db / 20)


def wav_bytes(samples, sample_rate, channels=1, width=2):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as recording:
        recording.setnchannels(channels)
        recording.setsampwidth(width)
        recording.setframerate(sample_rate)
        recording.writeframes(b"".join(s.to_bytes(width, "little", signed=True) for s in samples))
    return buffer.getvalue()


@pytest.mark.parametrize("sample_rate", RATES)
@pytest.mark.parametrize("key", KEYS)
def test_every_key_is_decoded(key, sample_rate):
    assert decode_dtmf(generate_dtmf(key, sample_rate), sample_rate) == key


@pytest.mark.parametrize("sample_rate", RATES)
def test_a_whole_account_number_with_the_terminator(sample_rate):
    samples = generate_dtmf("2300012345#", sample_rate, tone_ms=60, gap_ms=60)
    assert decode_dtmf(samples, sample_rate) == "2300012345#"


@pytest.mark.parametrize("sample_rate", RATES)
def test_the_fourth_column_keys(sample_rate):
    assert decode_dtmf(generate_dtmf("ABCD", sample_rate), sample_rate) == "ABCD"


@pytest.mark.parametrize("sample_rate", RATES)
def test_repeated_digits_are_separated_by_gaps(sample_rate):
    assert decode_dtmf(generate_dtmf("1100", sample_rate, gap_ms=50), sample_rate) == "1100"
    assert decode_dtmf(generate_dtmf("1100", sample_rate, gap_ms=25), sample_rate) == "1100"


@pytest.mark.parametrize("sample_rate", RATES)
def test_a_held_key_is_one_digit_and_a_new_key_needs_no_gap(sample_rate):
    samples = generate_dtmf("1100", sample_rate, tone_ms=80, gap_ms=0)
    assert decode_dtmf(samples, sample_rate) == "10"


@pytest.mark.parametrize("sample_rate", RATES)
def test_a_dropout_shorter_than_the_minimum_gap_does_not_split_a_digit(sample_rate):
    samples = generate_dtmf("7", sample_rate, tone_ms=120, gap_ms=40)
    middle, hole = len(samples) // 2, round(0.005 * sample_rate)
    samples[middle : middle + hole] = [0] * hole
    assert decode_dtmf(samples, sample_rate) == "7"


@pytest.mark.parametrize("sample_rate", RATES)
@pytest.mark.parametrize(("tone_ms", "snr_db"), [(60, 12), (40, 10), (50, 6)])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_digits_are_found_in_noise(sample_rate, tone_ms, snr_db, seed):
    digits = "147*2580369#"
    samples = generate_dtmf(
        digits, sample_rate, tone_ms=tone_ms, gap_ms=50, noise=noise_for(snr_db), seed=seed
    )
    assert decode_dtmf(samples, sample_rate) == digits


@pytest.mark.parametrize("sample_rate", RATES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_noise_alone_is_no_digit(sample_rate, seed):
    samples = generate_dtmf("", sample_rate, gap_ms=2000, noise=3000, seed=seed)
    assert decode_dtmf(samples, sample_rate) == ""


@pytest.mark.parametrize("sample_rate", RATES)
@pytest.mark.parametrize("frequency", [697, 770, 852, 941, 1209, 1336, 1477, 1633, 1000, 440])
def test_a_single_tone_is_no_digit(sample_rate, frequency):
    assert decode_dtmf(tones([frequency], 300, sample_rate), sample_rate) == ""


@pytest.mark.parametrize("sample_rate", RATES)
def test_voiced_speech_is_no_digit(sample_rate):
    """Vowel-like harmonic series (falling 1/k), fundamentals across the range of voices."""
    heard = {}
    for f0 in range(80, 320, 9):
        harmonics = [f0 * k for k in range(1, 30) if f0 * k < 4000]
        amplitudes = [8000 / k for k in range(1, len(harmonics) + 1)]
        heard[f0] = decode_dtmf(tones(harmonics, 200, sample_rate, amplitudes), sample_rate)
    assert {f0: keys for f0, keys in heard.items() if keys} == {}


@pytest.mark.parametrize("sample_rate", RATES)
def test_two_tones_off_the_dtmf_grid_are_no_digit(sample_rate):
    assert decode_dtmf(tones([1000, 1800], 200, sample_rate), sample_rate) == ""
    assert decode_dtmf(tones([600, 1100], 200, sample_rate), sample_rate) == ""


@pytest.mark.parametrize("sample_rate", RATES)
@pytest.mark.parametrize(
    ("deviation", "expected"), [(0.015, "9"), (-0.015, "9"), (0.035, ""), (-0.05, "")]
)
def test_frequency_tolerance(sample_rate, deviation, expected):
    """ITU-T Q.24: accept tones within 1.5 % of the nominal frequencies, reject 3.5 % off."""
    samples = tones([852 * (1 + deviation), 1477 * (1 + deviation)], 80, sample_rate)
    assert decode_dtmf(samples, sample_rate) == expected


@pytest.mark.parametrize("sample_rate", RATES)
@pytest.mark.parametrize(("twist_db", "expected"), [(6, "9"), (-4, "9"), (12, ""), (-10, "")])
def test_twist_between_the_row_and_the_column_tone(sample_rate, twist_db, expected):
    samples = generate_dtmf("9", sample_rate, twist_db=twist_db)
    assert decode_dtmf(samples, sample_rate) == expected


@pytest.mark.parametrize("sample_rate", RATES)
@pytest.mark.parametrize(("amplitude", "expected"), [(50, ""), (300, "5"), (16000, "5")])
def test_level_threshold(sample_rate, amplitude, expected):
    samples = generate_dtmf("5", sample_rate, amplitude=amplitude)
    assert decode_dtmf(samples, sample_rate) == expected


@pytest.mark.parametrize("sample_rate", RATES)
@pytest.mark.parametrize(
    ("tone_ms", "expected"), [(20, ""), (25, ""), (30, ""), (40, "5"), (45, "5")]
)
def test_minimum_duration(sample_rate, tone_ms, expected):
    """Whatever the alignment of the tone to the analysis windows."""
    heard = {
        decode_dtmf([0] * offset + generate_dtmf("5", sample_rate, tone_ms=tone_ms), sample_rate)
        for offset in range(0, 60, 3)
    }
    assert heard == {expected}


def test_minimum_duration_can_be_lowered():
    samples = generate_dtmf("3", 8000, tone_ms=30)
    assert decode_dtmf(samples, 8000) == ""
    assert decode_dtmf(samples, 8000, min_tone_ms=25) == "3"


def test_silence_and_empty_input_are_no_digit():
    assert decode_dtmf([], 8000) == ""
    assert decode_dtmf([0] * 8000, 8000) == ""


@pytest.mark.parametrize("sample_rate", [4000, 7999, 96000])
def test_unsupported_sample_rate_is_refused(sample_rate):
    with pytest.raises(ValueError, match="Unsupported sample rate"):
        decode_dtmf([0] * 1000, sample_rate)


@pytest.mark.parametrize("sample_rate", RATES)
def test_wav_bytes_round_trip(sample_rate):
    samples = generate_dtmf("0123456789*#", sample_rate, noise=noise_for(20), seed=7)
    assert decode_dtmf_wav(wav_bytes(samples, sample_rate)) == "0123456789*#"


def test_wav_from_a_path_and_from_an_open_file(tmp_path):
    path = tmp_path / "keys.wav"
    path.write_bytes(wav_bytes(generate_dtmf("2468", 8000), 8000))
    assert decode_dtmf_wav(str(path)) == "2468"
    assert decode_dtmf_wav(path) == "2468"
    with path.open("rb") as recording:
        assert decode_dtmf_wav(recording) == "2468"


@pytest.mark.parametrize("sample_rate", RATES)
def test_samples_to_wav_is_16_bit_mono_pcm(sample_rate):
    samples = generate_dtmf("42", sample_rate)
    data = samples_to_wav(samples, sample_rate)
    with wave.open(io.BytesIO(data), "rb") as recording:
        assert recording.getnchannels() == 1
        assert recording.getsampwidth() == 2
        assert recording.getframerate() == sample_rate
        assert recording.getnframes() == len(samples)
    assert decode_dtmf_wav(data) == "42"


def test_stereo_or_8_bit_wav_is_refused():
    samples = generate_dtmf("1", 8000)
    with pytest.raises(ValueError, match="16-bit mono"):
        decode_dtmf_wav(wav_bytes([s for s in samples for _ in range(2)], 8000, channels=2))
    with pytest.raises(ValueError, match="16-bit mono"):
        decode_dtmf_wav(wav_bytes([0] * 800, 8000, width=1))


def test_generated_signal_shape():
    samples = generate_dtmf("12", 8000, tone_ms=70, gap_ms=50)
    assert len(samples) == 3 * 400 + 2 * 560  # gap, tone, gap, tone, gap
    assert samples[:400] == [0] * 400
    assert all(-32768 <= s <= 32767 for s in generate_dtmf("1", 8000, amplitude=30000))


def test_generated_noise_is_repeatable():
    first = generate_dtmf("5", 8000, noise=500, seed=3)
    assert first == generate_dtmf("5", 8000, noise=500, seed=3)
    assert first != generate_dtmf("5", 8000, noise=500, seed=4)


def test_generating_an_unknown_key_is_refused():
    with pytest.raises(ValueError, match="Not a keypad key"):
        generate_dtmf("12E", 8000)
