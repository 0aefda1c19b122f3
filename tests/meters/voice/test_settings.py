"""The phone line's settings exist in vodokanal/settings.py (conftest.py sets them for the other
tests, so this guards the settings module itself)."""

from meters.voice.fastagi import allowed_networks
from vodokanal import settings as module


def test_the_phone_line_settings_are_defined():
    for name in (
        "VOICE_WEBHOOK_SECRET",
        "VOICE_VOSK_MODEL_PATH",
        "VOICE_OPERATOR_EXTENSION",
        "VOICE_AGI_TTS_APP",
        "VOICE_AGI_SPEECH_ENGINE",
        "VOICE_AGI_SPEECH_GRAMMAR",
    ):
        assert isinstance(getattr(module, name), str), name
    assert isinstance(module.VOICE_KEEP_RECORDINGS, bool)
    # The FastAGI server's defences (loopback only unless the PBX addresses are set).
    assert isinstance(module.VOICE_AGI_ALLOWED_IPS, list)
    assert allowed_networks(module.VOICE_AGI_ALLOWED_IPS)
    for name in ("VOICE_AGI_MAX_SESSIONS", "VOICE_AGI_IDLE_TIMEOUT"):
        assert isinstance(getattr(module, name), int), name
        assert getattr(module, name) > 0, name
