#!/usr/bin/env python3
"""Generate golden reference data for the AetherOS TTS Piper engine.

DEVELOPMENT TOOL ONLY. Run through tools/golden/setup.sh, which creates a
private virtualenv (tools/golden/.venv) with the pinned Piper reference
(piper-tts==1.8.0, see requirements.txt) and then runs this script.

Outputs (relative to the repository root unless --out-dir is given):

  test/golden/phoneme-ids.json   phonemes + phoneme ids for every corpus line
  test/golden/audio/<n>.wav      16-bit mono PCM for AUDIO_TEXTS (noise 0)
  test/golden/audio/model-level/<n>.wav
                                 the same with normalize_audio=False (the
                                 model's own level, no per-sentence peak scaling)
  test/golden/audio.json         metadata for the audio files

Code path (piper 1.8.0, piper/voice.py) -- the same calls PiperVoice.synthesize()
makes:

  voice = PiperVoice.load(model_path)          # config = model_path + ".json"
  for phonemes in voice.phonemize(text):       # list[list[str]], one per sentence
      if not phonemes: continue                # synthesize() skips empty sentences
      ids = voice.phonemes_to_ids(phonemes)    # ^ _ p1 _ p2 _ ... pn _ $
      audio = voice.phoneme_ids_to_audio(ids, syn_config)

There is no text normalization in the Python API: the text goes to espeak-ng
as-is (only [[ raw phoneme ]] blocks are split off first). The piper CLI
additionally does line.strip() and skips empty lines; we feed the corpus line
unchanged and flag lines where stripping would change the result.

float -> int16 conversion, quoted verbatim from piper/voice.py (1.8.0):

    _MAX_WAV_VALUE = 32767.0

    # PiperVoice.synthesize(), per sentence, on the raw model output `audio`
    # (float32, shape [n]) with the default SynthesisConfig
    # (normalize_audio=True, volume=1.0):
            if syn_config.normalize_audio:
                max_val = np.max(np.abs(audio))
                if max_val < 1e-8:
                    # Prevent division by zero
                    audio = np.zeros_like(audio)
                else:
                    audio = audio / max_val

            if syn_config.volume != 1.0:
                audio = audio * syn_config.volume

            audio = np.clip(audio, -1.0, 1.0).astype(np.float32)

    # AudioChunk.audio_int16_array:
            self._audio_int16_array = np.clip(
                self.audio_float_array * _MAX_WAV_VALUE, -_MAX_WAV_VALUE, _MAX_WAV_VALUE
            ).astype(np.int16)

    # AudioChunk.audio_int16_bytes:
        return self.audio_int16_array.tobytes()

Notes for a port: every operation above is float32 (numpy float32 array
divided by a float32 scalar / multiplied by a Python float stays float32), so
in JavaScript use Math.fround after the division and after the multiplication;
.astype(np.int16) TRUNCATES toward zero (no rounding); the clip range is
[-32767, 32767] (never -32768); normalization is per sentence (per chunk), not
per utterance; tobytes() is little-endian on x86/ARM.

With SynthesisConfig(normalize_audio=False) (audio/model-level/) the division
is skipped: the raw float32 output goes straight to the volume step (skipped
at 1.0), the clip to [-1, 1] and the int16 conversion above, so a sample is
trunc(clip(x, -1, 1) * 32767) in float32 and a sentence's peak is
trunc(raw_max_abs * 32767) while the model stays below full scale.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import onnxruntime

from piper import PiperVoice, SynthesisConfig

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parent.parent

DEFAULT_MODEL = _ROOT / "models" / "en_US-joe-medium.onnx"
DEFAULT_CORPUS = _ROOT / "test" / "golden" / "corpus.txt"
DEFAULT_OUT_DIR = _ROOT / "test" / "golden"

# Short, varied corpus lines for golden audio (must be exact corpus lines).
AUDIO_TEXTS = [
    "Hello world.",
    "Meet me on 2024-03-15 at 14:30.",
    "¿Dónde está la biblioteca?",
    "He left at 5 p.m. Then he came back.",
    "Say [[ həlˈoʊ ]] now.",
    "Wait… what just happened?",
    "She said, “I can’t believe it!”",
    "Stop! Wait? Go. Now!",
    # Single long sentences (426 and 1062 phonemes): Piper runs each through the model whole.
    "When the old lighthouse keeper finally climbed the 214 spiral steps to the lamp room, he found that the storm had shattered three of the twelve panes, soaked the logbook that his grandfather had started in 1887, and scattered the brass instruments across the floor, yet the great lens itself, against all odds, was still turning slowly and faithfully in the dark.",
    "and then the little train kept going up the long green hill past the sleeping farmhouses and the quiet river and the old stone bridge where the children used to fish in summer and the wind kept pushing against the windows while the conductor hummed a song that nobody on board could quite remember the words to and the passengers stared out at the fields that rolled on and on beneath a sky that seemed to have no end at all and somewhere far behind them the city lights were fading one by one into the soft gray evening until there was nothing left to see except the narrow silver rails stretching out ahead of them toward the mountains that stood waiting patiently in the distance as they had for thousands of years long before anyone had ever thought of building a railway through the valley or a station at the top of the pass where a single lamp was burning for travelers who might arrive late at night without warning and the conductor finally sat down on the worn leather bench at the back of the last carriage and closed his eyes",
]

INT16_CONVERSION = {
    "source": "piper/voice.py (piper-tts 1.8.0): PiperVoice.synthesize + AudioChunk.audio_int16_array",
    "code": [
        "# per sentence, audio = raw model output (float32)",
        "max_val = np.max(np.abs(audio))",
        "if max_val < 1e-8: audio = np.zeros_like(audio)",
        "else: audio = audio / max_val",
        "audio = np.clip(audio, -1.0, 1.0).astype(np.float32)",
        "_MAX_WAV_VALUE = 32767.0",
        "int16 = np.clip(audio * _MAX_WAV_VALUE, -_MAX_WAV_VALUE, _MAX_WAV_VALUE).astype(np.int16)",
        "bytes = int16.tobytes()  # little-endian",
    ],
    "notes": [
        "normalize_audio=True and volume=1.0 are the SynthesisConfig defaults used here and by the piper CLI",
        "normalization is per sentence (per AudioChunk), not per utterance",
        "all arithmetic is float32: JS equivalent is Math.fround(Math.fround(x / maxVal) * 32767)",
        ".astype(np.int16) truncates toward zero (Math.trunc), it does not round",
        "clip range is [-32767, 32767]; -32768 never occurs",
        "sentences are concatenated with no silence in between (CLI --sentence-silence defaults to 0)",
    ],
}


def to_json(obj, indent: int = 0) -> str:
    """Pretty JSON with lists of scalars (phonemes, ids) kept on one line (diff-friendly)."""
    pad, pad1 = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad1}{json.dumps(k, ensure_ascii=False)}: {to_json(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if all(not isinstance(v, (dict, list)) for v in obj):
            return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        items = [pad1 + to_json(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def espeak_ng_version() -> str | None:
    """Version string compiled into piper's bundled espeakbridge extension."""
    from piper import espeakbridge

    data = Path(espeakbridge.__file__).read_bytes()
    # espeak-ng embeds its version (e.g. "1.52.0.1") as a NUL-terminated string.
    found = sorted(
        set(m.group(1).decode() for m in re.finditer(rb"\x00(1\.\d+\.\d+(?:\.\d+)?)\x00", data))
    )
    return found[0] if len(found) == 1 else (", ".join(found) or None)


def espeak_data_hashes() -> dict[str, str]:
    from piper.phonemize_espeak import ESPEAK_DATA_DIR

    names = ["phondata", "phonindex", "phontab", "intonations", "en_dict"]
    return {n: sha256_file(ESPEAK_DATA_DIR / n) for n in names if (ESPEAK_DATA_DIR / n).exists()}


def read_corpus(path: Path) -> list[str]:
    # Split on LF only: str.splitlines() would also split on U+2028, \x0b, \x0c,
    # \x1c-\x1e, \x85 and would change the test inputs.
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for i, line in enumerate(lines, 1):
        if "\r" in line:
            raise ValueError(f"{path}:{i}: CR found; corpus must use LF line endings")
    return lines


def phonemize_line(voice: PiperVoice, text: str) -> dict:
    entry: dict = {"text": text}
    try:
        sentences = voice.phonemize(text)
    except Exception as err:  # keep the line: it is a test case
        entry["sentences"] = []
        entry["error"] = f"{type(err).__name__}: {err}"
        return entry

    id_map = voice.config.phoneme_id_map
    out = []
    for phonemes in sentences:
        sent: dict = {"phonemes": list(phonemes)}
        if phonemes:
            sent["ids"] = voice.phonemes_to_ids(phonemes)
            missing = [p for p in phonemes if p not in id_map]
            if missing:
                # phonemes_to_ids logs a warning and drops these
                sent["missing_phonemes"] = sorted(set(missing))
        else:
            # PiperVoice.synthesize() skips empty sentences ("if not phonemes: continue")
            sent["ids"] = []
            sent["skipped_by_synthesize"] = True
        out.append(sent)
    entry["sentences"] = out
    if not any(s["phonemes"] for s in out):
        entry["no_phonemes"] = True

    if text != text.strip():
        try:
            stripped = voice.phonemize(text.strip())
        except Exception as err:
            stripped = f"{type(err).__name__}: {err}"
        if stripped != sentences:
            entry["cli_strip_differs"] = True
    return entry


def synthesize_pcm(voice: PiperVoice, text: str, syn_config: SynthesisConfig):
    """Exactly what the piper CLI writes for one line (sentence silence 0)."""
    chunks = list(voice.synthesize(text, syn_config))
    pcm = b"".join(c.audio_int16_bytes for c in chunks)
    return chunks, pcm


def golden_syn_config() -> SynthesisConfig:
    # length_scale=None -> voice config value; normalize_audio/volume: defaults.
    return SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)


def model_level_syn_config() -> SynthesisConfig:
    # The golden config with only per-sentence peak normalization turned off.
    return SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False)


def hash_audio_only(model: Path) -> None:
    """Child-process mode: print sha256 of each golden PCM (fresh process + session)."""
    voice = PiperVoice.load(model)
    hashes = {
        name: [hashlib.sha256(synthesize_pcm(voice, t, cfg)[1]).hexdigest() for t in AUDIO_TEXTS]
        for name, cfg in (("normalized", golden_syn_config()), ("model_level", model_level_syn_config()))
    }
    json.dump(hashes, sys.stdout)


def single_thread_pcms(model: Path, cfg: SynthesisConfig) -> list[bytes]:
    """Same synthesis, but with an onnxruntime session forced to 1 intra-op thread.

    Not piper's code path (piper uses default SessionOptions, i.e. one intra-op
    thread per physical core); informational only, to tell a port how much the
    thread count changes the samples.
    """
    voice = PiperVoice.load(model)
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    voice.session = onnxruntime.InferenceSession(
        str(model), sess_options=opts, providers=["CPUExecutionProvider"]
    )
    return [synthesize_pcm(voice, t, cfg)[1] for t in AUDIO_TEXTS]


def pcm_diff(a: bytes, b: bytes) -> dict:
    x = np.frombuffer(a, dtype="<i2").astype(np.int32)
    y = np.frombuffer(b, dtype="<i2").astype(np.int32)
    if len(x) != len(y):
        return {"same_length": False, "num_samples": [len(x), len(y)]}
    d = np.abs(x - y)
    return {"same_length": True, "max_abs_diff": int(d.max(initial=0)), "samples_differing": int((d > 0).sum())}


def write_wav(path: Path, chunks, pcm: bytes) -> None:
    with wave.open(str(path), "wb") as wav_file:
        wav_file.setframerate(chunks[0].sample_rate)
        wav_file.setsampwidth(chunks[0].sample_width)
        wav_file.setnchannels(chunks[0].sample_channels)
        wav_file.writeframes(pcm)


def model_level_determinism(
    run1_hashes: list[str],
    run1_pcms: list[bytes],
    run2_same_session: list[str],
    run_other_process: list[str],
    one_thread_pcms: list[bytes],
) -> dict:
    """The determinism checks above, repeated for the normalize_audio=False files."""
    run_one_thread = [hashlib.sha256(p).hexdigest() for p in one_thread_pcms]
    return {
        "bit_identical_same_session": run1_hashes == run2_same_session,
        "bit_identical_fresh_process": run1_hashes == run_other_process,
        "bit_identical_with_1_thread_session": run1_hashes == run_one_thread,
        "one_thread_vs_default": [pcm_diff(a, b) for a, b in zip(run1_pcms, one_thread_pcms)],
        "mismatches": {
            "same_session": [i + 1 for i, (a, b) in enumerate(zip(run1_hashes, run2_same_session)) if a != b],
            "fresh_process": [i + 1 for i, (a, b) in enumerate(zip(run1_hashes, run_other_process)) if a != b],
            "one_thread": [i + 1 for i, (a, b) in enumerate(zip(run1_hashes, run_one_thread)) if a != b],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="Piper .onnx voice")
    parser.add_argument("--config", type=Path, help="voice config (default: <model>.json)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--no-audio", action="store_true", help="only write phoneme-ids.json")
    parser.add_argument("--hash-audio-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    model: Path = args.model
    config_path: Path = args.config or Path(f"{model}.json")
    if not model.exists() or not config_path.exists():
        sys.exit(f"voice not found: {model} / {config_path} (pass --model PATH)")

    if args.hash_audio_only:
        hash_audio_only(model)
        return

    voice = PiperVoice.load(model, config_path=config_path)
    config = voice.config
    reference = {
        "piper_tts": importlib.metadata.version("piper-tts"),
        "espeak_ng": espeak_ng_version(),
        "espeak_ng_data_sha256": espeak_data_hashes(),
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "voice": {
            "model": model.name,
            "model_sha256": sha256_file(model),
            "config": config_path.name,
            "config_sha256": sha256_file(config_path),
            "espeak_voice": config.espeak_voice,
            "phoneme_type": config.phoneme_type.value,
            "sample_rate": config.sample_rate,
            "num_symbols": config.num_symbols,
            "vowel_clusters": sorted(list(v) for v in config.vowel_clusters) if config.vowel_clusters else None,
            "inference": {
                "length_scale": config.length_scale,
                "noise_scale": config.noise_scale,
                "noise_w_scale": config.noise_w_scale,
            },
        },
    }

    # ---- phoneme ids -------------------------------------------------------
    lines = read_corpus(args.corpus)
    entries = []
    for n, text in enumerate(lines, 1):
        entry = phonemize_line(voice, text)
        entry = {"line": n, **entry}
        entries.append(entry)

    out_dir: Path = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    phoneme_doc = {
        "reference": reference,
        "format": {
            "entries": "one per corpus line (test/golden/corpus.txt split on LF only), in order",
            "text": "the exact string passed to PiperVoice.phonemize()",
            "sentences": "PiperVoice.phonemize(text): one item per sentence, in order",
            "phonemes": "the phoneme list piper produced (NFD codepoints; multi-codepoint only with vowel_clusters)",
            "ids": "PiperVoice.phonemes_to_ids(phonemes): BOS, PAD, then each phoneme's ids + PAD, then EOS",
            "missing_phonemes": "phonemes not in the voice's phoneme_id_map; phonemes_to_ids drops them",
            "skipped_by_synthesize": "empty sentence: PiperVoice.synthesize() does not synthesize it",
            "no_phonemes": "the line produced nothing speakable",
            "error": "PiperVoice.phonemize raised (message recorded)",
            "cli_strip_differs": "the piper CLI strips lines; phonemizing text.strip() gives a different result",
        },
        "entries": entries,
    }
    ids_path = out_dir / "phoneme-ids.json"
    ids_path.write_text(to_json(phoneme_doc) + "\n", encoding="utf-8")

    n_sent = sum(len(e["sentences"]) for e in entries)
    print(f"{ids_path}: {len(entries)} lines, {n_sent} sentences")
    for e in entries:
        flags = [k for k in ("error", "no_phonemes", "cli_strip_differs") if k in e]
        if any("missing_phonemes" in s for s in e["sentences"]):
            flags.append("missing_phonemes")
        if any(s.get("skipped_by_synthesize") for s in e["sentences"]):
            flags.append("skipped_by_synthesize")
        if flags:
            print(f"  line {e['line']}: {', '.join(flags)}: {e['text']!r}")

    if args.no_audio:
        return

    # ---- golden audio ------------------------------------------------------
    audio_dir = out_dir / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    by_text = {e["text"]: e["line"] for e in entries}
    syn_config = golden_syn_config()
    model_level_dir = audio_dir / "model-level"
    model_level_dir.mkdir(parents=True, exist_ok=True)
    model_level_config = model_level_syn_config()

    items = []
    run1_hashes = []
    run1_pcms = []
    run2_same_session = []
    model_level_run1_hashes = []
    model_level_run1_pcms = []
    model_level_run2_same_session = []
    for i, text in enumerate(AUDIO_TEXTS, 1):
        if text not in by_text:
            sys.exit(f"audio text is not a corpus line: {text!r}")
        chunks, pcm = synthesize_pcm(voice, text, syn_config)
        _, pcm2 = synthesize_pcm(voice, text, syn_config)
        run1_hashes.append(hashlib.sha256(pcm).hexdigest())
        run1_pcms.append(pcm)
        run2_same_session.append(hashlib.sha256(pcm2).hexdigest())

        wav_path = audio_dir / f"{i}.wav"
        write_wav(wav_path, chunks, pcm)

        model_level_chunks, model_level_pcm = synthesize_pcm(voice, text, model_level_config)
        _, model_level_pcm2 = synthesize_pcm(voice, text, model_level_config)
        # Normalization only scales samples: sentence boundaries must not move.
        if [len(c.audio_int16_array) for c in model_level_chunks] != [len(c.audio_int16_array) for c in chunks]:
            sys.exit(f"model-level sentence sample counts differ from the normalized ones: {text!r}")
        model_level_run1_hashes.append(hashlib.sha256(model_level_pcm).hexdigest())
        model_level_run1_pcms.append(model_level_pcm)
        model_level_run2_same_session.append(hashlib.sha256(model_level_pcm2).hexdigest())
        write_wav(model_level_dir / f"{i}.wav", model_level_chunks, model_level_pcm)

        chunk_info = []
        offset = 0
        for c in chunks:
            raw = voice.phoneme_ids_to_audio(c.phoneme_ids, syn_config)
            n = len(c.audio_int16_array)
            chunk_info.append(
                {
                    "phonemes": list(c.phonemes),
                    "ids": list(c.phoneme_ids),
                    "sample_offset": offset,
                    "num_samples": n,
                    "raw_max_abs": float(np.max(np.abs(raw))),
                }
            )
            offset += n
        items.append(
            {
                "file": f"audio/{i}.wav",
                "line": by_text[text],
                "text": text,
                "sample_rate": chunks[0].sample_rate,
                "sample_width": chunks[0].sample_width,
                "channels": chunks[0].sample_channels,
                "num_samples": len(pcm) // 2,
                "pcm_sha256": run1_hashes[-1],
                "model_level_file": f"audio/model-level/{i}.wav",
                "model_level_num_samples": len(model_level_pcm) // 2,
                "model_level_pcm_sha256": model_level_run1_hashes[-1],
                "sentences": chunk_info,
            }
        )
        print(f"{wav_path}: {len(pcm) // 2} samples, {len(chunks)} sentence(s)")

    # Determinism: (1) same session twice, (2) fresh process + fresh session,
    # (3) informational: 1-thread onnxruntime session.
    child = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--hash-audio-only", "--model", str(model)],
        check=True,
        capture_output=True,
        text=True,
    )
    child_hashes = json.loads(child.stdout)
    run_other_process = child_hashes["normalized"]
    one_thread_pcms = single_thread_pcms(model, syn_config)
    run_one_thread = [hashlib.sha256(p).hexdigest() for p in one_thread_pcms]

    same_session = run1_hashes == run2_same_session
    other_process = run1_hashes == run_other_process
    one_thread = run1_hashes == run_one_thread
    determinism = {
        "bit_identical_same_session": same_session,
        "bit_identical_fresh_process": other_process,
        "bit_identical_with_1_thread_session": one_thread,
        "one_thread_vs_default": [pcm_diff(a, b) for a, b in zip(run1_pcms, one_thread_pcms)],
        "machine_cpus": os.cpu_count(),
        "method": (
            "sha256 of the int16 PCM of every golden file: run 1 and run 2 in the same "
            "PiperVoice/session; run 3 in a child process with a fresh PiperVoice.load(); "
            "run 4 with an onnxruntime session forced to intra/inter_op_num_threads=1 "
            "(informational, not piper's default SessionOptions)"
        ),
        "mismatches": {
            "same_session": [i + 1 for i, (a, b) in enumerate(zip(run1_hashes, run2_same_session)) if a != b],
            "fresh_process": [i + 1 for i, (a, b) in enumerate(zip(run1_hashes, run_other_process)) if a != b],
            "one_thread": [i + 1 for i, (a, b) in enumerate(zip(run1_hashes, run_one_thread)) if a != b],
        },
        "model_level": model_level_determinism(
            model_level_run1_hashes,
            model_level_run1_pcms,
            model_level_run2_same_session,
            child_hashes["model_level"],
            single_thread_pcms(model, model_level_config),
        ),
    }

    audio_doc = {
        "reference": reference,
        "synthesis_config": {
            "noise_scale": 0.0,
            "noise_w_scale": 0.0,
            "length_scale": config.length_scale,
            "length_scale_source": "voice config inference.length_scale (SynthesisConfig.length_scale=None)",
            "normalize_audio": syn_config.normalize_audio,
            "volume": syn_config.volume,
            "speaker_id": None,
            "onnx_inputs": "input=int64[1,n] ids, input_lengths=int64[1] [n], scales=float32[3] [noise_scale, length_scale, noise_w_scale]",
            "sentence_silence_samples": 0,
        },
        "model_level_synthesis_config": {
            "files": "items[].model_level_file (audio/model-level/<n>.wav), same format as items[].file",
            "same_as_synthesis_config_except": "normalize_audio",
            "normalize_audio": model_level_config.normalize_audio,
            "volume": model_level_config.volume,
            "int16_conversion": [
                "# per sentence, audio = raw model output (float32); no division by max_val",
                "audio = np.clip(audio, -1.0, 1.0).astype(np.float32)",
                "int16 = np.clip(audio * 32767.0, -32767.0, 32767.0).astype(np.int16)",
            ],
            "notes": [
                "JS equivalent: Math.trunc(Math.fround(Math.min(1, Math.max(-1, x)) * 32767))",
                "a sentence's peak sample is trunc(raw_max_abs * 32767) when raw_max_abs <= 1",
                "sentence sample counts equal the normalized files' (checked when generating)",
            ],
        },
        "int16_conversion": INT16_CONVERSION,
        "determinism": determinism,
        "items": items,
    }
    audio_json = out_dir / "audio.json"
    audio_json.write_text(to_json(audio_doc) + "\n", encoding="utf-8")
    print(f"{audio_json}: determinism same-session={same_session} fresh-process={other_process} 1-thread={one_thread}")
    ml = determinism["model_level"]
    print(
        f"  model level: same-session={ml['bit_identical_same_session']} "
        f"fresh-process={ml['bit_identical_fresh_process']} 1-thread={ml['bit_identical_with_1_thread_session']}"
    )


if __name__ == "__main__":
    main()
