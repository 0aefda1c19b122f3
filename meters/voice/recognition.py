"""Answers recorded by the platform: keypad tones and, optionally, speech recognised here.

docs/phone-line.md §4. Some platforms send the caller's answer as
a recording instead of (or beside) their own recognition:

- keypad digits are decoded from the audio (meters/voice/dtmf.py, Goertzel filters);
- speech is recognised locally with Vosk when settings.VOICE_VOSK_MODEL_PATH names a model
  directory. The `vosk` package is optional and imported only then; when it is missing, or the
  model cannot be loaded, this is logged and the platform's own text is used. The recogniser is
  limited to the words the line understands (numbers, yes/no, "оператор", "пропустить"), which
  makes it more accurate than open dictation.

Recordings are 16-bit mono PCM WAV, 8 or 16 kHz.
"""

import functools
import io
import json
import logging
import wave
from typing import Any

from django.conf import settings

from meters.voice.dtmf import decode_dtmf_wav
from meters.voice.numbers import vocabulary

logger = logging.getLogger(__name__)

COMMAND_WORDS = ("оператор", "оператора", "оператором", "пропустить", "пропусти")


def keypad_from_recording(wav: bytes) -> str:
    """The keys pressed in the recording ("" when none, or when it is not a usable WAV)."""
    try:
        return decode_dtmf_wav(wav)
    except (ValueError, EOFError, wave.Error) as error:
        logger.warning("recording not decoded for keypad tones: %s", error)
        return ""


@functools.cache
def _vosk_model(path: str) -> Any:
    """The Vosk model at `path`, loaded once per process; None when it cannot be used."""
    try:
        import vosk  # optional: only deployments with a model install it
    except ImportError:
        logger.warning(
            "VOICE_VOSK_MODEL_PATH is set but the vosk package is not installed: "
            "using the platform's recognised text"
        )
        return None
    try:
        vosk.SetLogLevel(-1)
        return vosk.Model(path)
    except Exception:
        logger.exception("the Vosk model at %s cannot be loaded", path)
        return None


def speech_from_recording(wav: bytes) -> str | None:
    """The words of the recording recognised by Vosk, or None when local recognition is not
    configured or not available (the caller then uses the platform's text)."""
    path = settings.VOICE_VOSK_MODEL_PATH
    if not path:
        return None
    model = _vosk_model(str(path))
    if model is None:
        return None
    import vosk  # already imported by _vosk_model

    grammar = json.dumps([*sorted(vocabulary()), *COMMAND_WORDS, "[unk]"], ensure_ascii=False)
    try:
        with wave.open(io.BytesIO(wav), "rb") as recording:
            if recording.getsampwidth() != 2 or recording.getnchannels() != 1:
                logger.warning("recording is not 16-bit mono PCM: not recognised")
                return None
            recogniser = vosk.KaldiRecognizer(model, recording.getframerate(), grammar)
            while frames := recording.readframes(4000):
                recogniser.AcceptWaveform(frames)
    except (EOFError, wave.Error) as error:
        logger.warning("recording not recognised: %s", error)
        return None
    words = json.loads(recogniser.FinalResult()).get("text", "")
    return " ".join(word for word in words.split() if word != "[unk]")
