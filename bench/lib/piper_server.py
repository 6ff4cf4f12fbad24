#!/usr/bin/env python3
"""The Piper reference for bench/run.ts: a long-lived process, so interpreter and model
start-up are never timed.

Started as `python piper_server.py MODEL.onnx`; loads the voice with PiperVoice.load (the
config next to the model, onnxruntime's default SessionOptions: intra-op threads 0 = one
per core), prints one JSON line {"ready": ...}, then answers one JSON line per request line
on stdin:

  {"op": "synth", "text": T}   PiperVoice.synthesize_wav(T) into an in-memory WAV with the
                               default SynthesisConfig; {"ms", "samples", "sentences"}
  {"op": "first", "text": T}   time until PiperVoice.synthesize(T) yields its first chunk
                               (phonemize everything + first sentence); {"ms", "samples"}
  {"op": "phonemize", "text": T} time of PiperVoice.phonemize(T) alone; {"ms"}
  {"op": "rss"}                this process's resident memory; {"rss_bytes", "hwm_bytes"}

Times are measured here with time.perf_counter around the call alone.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import sys
import time
import wave

import onnxruntime
from piper import PiperVoice


def status_bytes(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    model = sys.argv[1]
    voice = PiperVoice.load(model)
    options = voice.session.get_session_options()
    print(
        json.dumps(
            {
                "ready": True,
                "piper_tts": importlib.metadata.version("piper-tts"),
                "onnxruntime": onnxruntime.__version__,
                "numpy": importlib.metadata.version("numpy"),
                "python": sys.version.split()[0],
                "intra_op_num_threads": options.intra_op_num_threads,
                "inter_op_num_threads": options.inter_op_num_threads,
                "execution_mode": str(options.execution_mode),
                "graph_optimization_level": str(options.graph_optimization_level),
                "sample_rate": voice.config.sample_rate,
                "cpu_count": os.cpu_count(),
            }
        ),
        flush=True,
    )
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        op = request["op"]
        if op == "synth":
            buffer = io.BytesIO()
            started = time.perf_counter()
            with wave.open(buffer, "wb") as wav_file:
                voice.synthesize_wav(request["text"], wav_file)
            elapsed = time.perf_counter() - started
            samples = (len(buffer.getvalue()) - 44) // 2
            answer = {"ms": elapsed * 1000, "samples": samples, "sentences": len(voice.phonemize(request["text"]))}
        elif op == "first":
            started = time.perf_counter()
            chunks = voice.synthesize(request["text"])
            first = next(iter(chunks))
            elapsed = time.perf_counter() - started
            chunks.close()
            answer = {"ms": elapsed * 1000, "samples": len(first.audio_int16_bytes) // 2}
        elif op == "phonemize":
            started = time.perf_counter()
            voice.phonemize(request["text"])
            answer = {"ms": (time.perf_counter() - started) * 1000}
        elif op == "rss":
            answer = {"rss_bytes": status_bytes("VmRSS"), "hwm_bytes": status_bytes("VmHWM")}
        else:
            answer = {"error": f"unknown op {op!r}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
