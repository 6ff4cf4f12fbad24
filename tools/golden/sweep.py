#!/usr/bin/env python3
"""Piper's phonemes and ids for every item of the parity sweep corpus (the oracle side).

DEVELOPMENT TOOL ONLY, run by `npm run test:parity` (tools/golden/parity.ts) with the private
Piper virtualenv:

  python tools/golden/sweep.py [--corpus test/golden/sweep/corpus.tsv] --out piper.jsonl

Writes one JSON object per corpus line, in order: {"sentences": [{"phonemes", "ids"}]} or
{"error": "..."} when Piper raises. Same code path as tools/golden/generate.py:
PiperVoice.phonemize(text) and PiperVoice.phonemes_to_ids() per sentence.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_MODEL = _ROOT / "models" / "en_US-joe-medium.onnx"
DEFAULT_CORPUS = _ROOT / "test" / "golden" / "sweep" / "corpus.tsv"
_ESCAPES = {"\\": "\\", "t": "\t", "n": "\n"}


def load_voice(model: Path = DEFAULT_MODEL):
    from piper import PiperVoice

    return PiperVoice.load(model)


def read_corpus(path: Path = DEFAULT_CORPUS) -> list[tuple[str, str]]:
    items = []
    for line in path.read_text(encoding="utf-8").split("\n")[:-1]:
        category, text = line.split("\t", 1)
        items.append((category, re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text)))
    return items


def phonemize_item(voice, text: str) -> dict:
    """Piper's sentences for `text`: phonemes joined into one string, and ids."""
    try:
        sentences = voice.phonemize(text)
    except Exception as err:  # keep the item: the engine must fail the same way
        return {"text": text, "error": f"{type(err).__name__}: {err}"}
    return {
        "text": text,
        "sentences": [{"phonemes": "".join(p), "ids": voice.phonemes_to_ids(p) if p else []} for p in sentences],
    }


def to_json(obj, indent: int = 0) -> str:
    """Pretty JSON with lists of scalars kept on one line (diff-friendly)."""
    pad, pad1 = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict):
        items = [f"{pad1}{json.dumps(k, ensure_ascii=False)}: {to_json(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}" if items else "{}"
    if isinstance(obj, list):
        if all(not isinstance(v, (dict, list)) for v in obj):
            return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        items = [pad1 + to_json(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    voice = load_voice(args.model)
    with open(args.out, "w", encoding="utf-8") as out:
        for _, text in read_corpus(args.corpus):
            result = phonemize_item(voice, text)
            del result["text"]
            out.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
