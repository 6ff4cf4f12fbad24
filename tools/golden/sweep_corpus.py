#!/usr/bin/env python3
"""Generate the phoneme parity sweep corpus and its committed sample.

DEVELOPMENT TOOL ONLY. Run it with the private Piper virtualenv (bash tools/golden/venv.sh
creates it and prints its python) after `node native/espeak/build.mjs` has run, because it
reads the English dictionary source from native/espeak/target/dictsource/en_list:

  $(bash tools/golden/venv.sh) tools/golden/sweep_corpus.py

Writes:

  test/golden/sweep/corpus.tsv   every item as "<category>\\t<text>", one per line
  test/golden/sweep/sample.json  a fixed sample of the items (about 2,000, every category
                                 represented) with Piper's phonemes and ids, for npm test

The corpus is deterministic: the same sources give the same file (random choices use a fixed
seed). Sources: every en_list entry (multi-word entries also in a carrier sentence, hyphenated
and as one word), the 10,000 most common English words (wordfreq), numbers in the forms an
assistant reads, abbreviations, mixed case and acronyms, and punctuation that changes how
espeak-ng splits clauses.
"""

from __future__ import annotations

import hashlib
import random
import re
import sys
import unicodedata
from pathlib import Path

from wordfreq import top_n_list

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep import load_voice, phonemize_item, to_json  # noqa: E402

_ROOT = Path(__file__).resolve().parent.parent.parent
EN_LIST = _ROOT / "native" / "espeak" / "target" / "dictsource" / "en_list"
OUT_DIR = _ROOT / "test" / "golden" / "sweep"
SAMPLE_SIZE = 1600  # plus at least 20 per category: about 2,000 in all
# Always in the sample: the line that found issue 18, and its neighbours.
SAMPLE_ALWAYS = ["It has been moved.", "She has been.", "has been", "has-been", "a has-been"]


def en_list_entries(path: Path) -> tuple[list[str], list[str]]:
    """Single words and multi-word phrases of en_list, in file order, without duplicates."""
    words: dict[str, None] = {}
    phrases: dict[str, None] = {}
    for raw in path.read_text(encoding="utf-8").split("\n"):
        line = raw.strip()
        condition = re.match(r"\?!?\d+\s*", line)
        if condition:
            line = line[condition.end() :]
        if not line or line.startswith("//"):
            continue
        if line.startswith("("):
            end = line.find(")")
            if end < 0:
                continue
            # en_list writes "e . g ." for "e.g.": the spaces are not in the text.
            phrase = line[1:end]
            phrase = re.sub(r" (?=[.'])|(?<=[.']) (?=\S)", "", phrase) if " . " in phrase else phrase
            phrases[phrase] = None
            continue
        word = line.split()[0]
        if word.startswith("_"):
            continue  # espeak's internal entries: letter names, number parts
        if "//" in word:
            word = word.split("//")[0]
        if word:
            words[word] = None
    return list(words), list(phrases)


def dictionary_items(words: list[str], phrases: list[str]) -> list[tuple[str, str]]:
    items = [("en_list-word", w) for w in words]
    for phrase in phrases:
        items.append(("en_list-phrase", phrase))
        items.append(("en_list-phrase-in-sentence", f"I think {phrase} is right."))
        parts = phrase.split()
        if len(parts) > 1 and all(p.isalpha() for p in parts):
            items.append(("en_list-phrase-hyphenated", f"I think {'-'.join(parts)} is right."))
            items.append(("en_list-phrase-one-word", f"I think {''.join(parts)} is right."))
    items += [("en_list-phrase", t) for t in SAMPLE_ALWAYS]
    return items


def common_word_items() -> list[tuple[str, str]]:
    return [("common-word", f"Say {w} again.") for w in top_n_list("en", 10000)]


def number_items(rng: random.Random) -> list[tuple[str, str]]:
    items = [("number", str(n)) for n in range(0, 10001)]
    items += [("number-grouped", f"{n:,}") for n in rng.sample(range(1000, 10_000_000), 200)]
    items += [("number-large", str(n)) for n in [10**k for k in range(5, 16)] + rng.sample(range(10**5, 10**12), 40)]
    items += [("decimal", t) for t in ["0.5", "3.14", "2.718", "0.001", "1.0", "10.50", "99.99", "1,234.56", ".5", "0.25"]]
    items += [("decimal", f"{rng.randint(0, 999)}.{rng.randint(0, 999):0{rng.randint(1, 3)}d}") for _ in range(150)]
    items += [("negative", f"-{n}") for n in list(range(1, 21)) + rng.sample(range(21, 10000), 60)]
    items += [("negative", t) for t in ["-0.5", "-3.14", "It was -5 degrees.", "−7", "minus 4", "-1,000"]]
    ordinal = lambda n: f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"  # noqa: E731
    items += [("ordinal", f"the {ordinal(n)} time") for n in list(range(1, 133)) + rng.sample(range(133, 10000), 60)]
    items += [("year", f"In {y} we met.") for y in list(range(1900, 2041)) + rng.sample(range(1000, 1900), 60)]
    items += [("year", t) for t in ["the 1990s", "the '80s", "in 2000 BC", "AD 476", "1999-2000", "from 1914 to 1918"]]
    for symbol in ["$", "£", "€", "¥"]:
        amounts = ["0", "1", "5", "0.99", "1.50", "12.05", "99", "100", "1,000", "2,499.99", "1000000", "3.5 million", "20 billion"]
        amounts += [f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}" for _ in range(15)]
        items += [("currency", f"It costs {symbol}{a}.") for a in amounts]
        items += [("currency", f"{a}{symbol}") for a in ["5", "10.50"]]
    items += [("currency", t) for t in ["USD 20", "20 EUR", "GBP 5.00", "JPY 1000", "5¢", "$5-$10", "$1.2M", "€3k"]]
    items += [("percent", f"{p}%") for p in ["0", "1", "5", "12.5", "50", "99.9", "100", "-3", "0.01", "250"]]
    items += [("percent", t) for t in ["Prices rose 3% last year.", "a 50 % chance", "10 percent", "5‰"]]
    items += [("fraction", f"{a}/{b}") for a in range(1, 10) for b in range(2, 13) if a < b]
    items += [("fraction", t) for t in ["½", "¼", "¾", "⅓", "1 1/2", "2½ cups", "3/4 of the way", "9/11"]]
    phone = ["(555) 123-4567", "555-123-4567", "555.123.4567", "+1 415 555 2671", "1-800-555-0199", "+44 20 7946 0958", "911", "555-0100"]
    phone += [f"({rng.randint(200, 999)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}" for _ in range(30)]
    items += [("phone", f"Call {p} now.") for p in phone]
    times = ["3:45", "12:00", "00:00", "23:59", "9:05 am", "9:05 a.m.", "10 pm", "10 p.m.", "14:30", "7:30:15", "noon", "6h30"]
    times += [f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d} {rng.choice(['AM', 'PM', 'am', 'pm', 'a.m.', 'p.m.'])}" for _ in range(40)]
    items += [("time", f"Meet me at {t}.") for t in times]
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
    dates = ["2024-03-15", "03/15/2024", "15/03/2024", "3/15/24", "15.03.2024", "2024/03/15", "20240315"]
    for _ in range(40):
        y, m, d = rng.randint(1950, 2035), rng.randint(1, 12), rng.randint(1, 28)
        dates += [f"{y}-{m:02d}-{d:02d}", f"{m}/{d}/{y}", f"{months[m - 1]} {d}, {y}", f"{d} {months[m - 1]} {y}", f"{months[m - 1][:3]} {d}"]
    items += [("date", f"It is due on {t}.") for t in dates]
    items += [("date", t) for t in ["Monday, March 4th", "Tue, Jan 5", "the 4th of July", "Q3 2024", "FY2025", "March 2024"]]
    return items


def abbreviation_items() -> list[tuple[str, str]]:
    titles = ["Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "St.", "Sr.", "Jr.", "Rev.", "Gen.", "Capt.", "Lt.", "Sgt.", "Hon.", "Mr", "Dr"]
    items = [("title", f"{t} Smith is here.") for t in titles]
    items += [("title", f"I met {t} Jones yesterday.") for t in titles]
    items += [("title", t) for t in ["John Smith Jr. left.", "Martin Luther King, Jr.", "Smith, PhD", "Jane Doe, M.D.", "Baker St."]]
    units = ["kg", "g", "mg", "lb", "lbs", "oz", "km", "m", "cm", "mm", "mi", "ft", "in", "yd", "mph", "km/h", "m/s", "l", "L", "ml", "mL"]
    units += ["gal", "°C", "°F", "°", "K", "Hz", "kHz", "MHz", "GHz", "KB", "MB", "GB", "TB", "kB", "Mbps", "W", "kW", "kWh", "V", "mAh"]
    units += ["s", "ms", "min", "hr", "h", "sq ft", "m²", "km²", "cm³", "psi", "dB", "%", "px", "pt", "rpm", "cal", "kcal"]
    items += [("unit", f"It is 5 {u}.") for u in units] + [("unit", f"It is 12{u}.") for u in units]
    states = "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC".split()
    items += [("state", f"Portland, {s} 97201") for s in states] + [("state", f"I live in {s}.") for s in states]
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec"]
    items += [("month", f"on {m} 5") for m in months] + [("month", f"on {m}. 5") for m in months]
    days = ["Mon", "Tue", "Tues", "Wed", "Thu", "Thur", "Thurs", "Fri", "Sat", "Sun"]
    items += [("day", f"Open {d} to Fri.") for d in days] + [("day", f"See you {d}.") for d in days]
    other = ["e.g.", "i.e.", "etc.", "vs.", "vs", "approx.", "dept.", "no.", "No. 5", "Ave.", "Blvd.", "Rd.", "Apt. 4B", "ext. 12", "a.k.a.", "ASAP", "FYI", "RSVP", "P.S.", "U.S.", "U.K.", "USA", "EU", "UN", "a.m.", "p.m.", "Inc.", "Ltd.", "Co.", "Corp.", "LLC", "est.", "min.", "max.", "fig. 3", "p. 12", "pp. 3-5", "vol. 2", "ch. 7"]
    items += [("abbreviation", f"Bring pens, paper, {a} and more.") for a in other] + [("abbreviation", a) for a in other]
    return items


def mixed_case_items() -> list[tuple[str, str]]:
    words = ["NASA", "FBI", "CIA", "NATO", "UNICEF", "SCUBA", "LASER", "GIF", "JPEG", "PDF", "HTML", "CSS", "JSON", "SQL", "API", "URL", "HTTP", "HTTPS", "USB", "CPU", "GPU", "RAM", "SSD", "AI", "ML", "LLM", "iPhone", "iPad", "iOS", "macOS", "eBay", "YouTube", "PlayStation", "PowerPoint", "JavaScript", "TypeScript", "GitHub", "McDonald", "MacBook", "DiCaprio", "O'Brien", "COVID-19", "COVID", "Covid", "SARS-CoV-2", "H1N1", "B2B", "4K", "5G", "Wi-Fi", "WiFi", "PhD", "MBA", "CEO", "CTO", "AT&T", "R&D", "Q&A", "M&M's", "3M", "7-Eleven", "F-16", "A4", "MP3", "H2O", "CO2", "camelCase", "snake_case", "kebab-case", "ALL CAPS TEXT", "Hello WORLD", "hELLO", "ThIs Is MiXeD", "OK", "Ok", "ok", "TV", "DJ", "VIP", "UFO", "DIY", "LOL", "OMG", "BTW", "IMHO", "TL;DR", "x86", "ARM64", "Node.js", "C++", "C#", ".NET", "F#"]
    items = [("mixed-case", w) for w in words] + [("mixed-case", f"I saw {w} today.") for w in words]
    items += [("url", t) for t in ["example.com", "www.example.com", "https://example.com/path?q=1", "john.doe@example.com", "@handle", "#hashtag", "192.168.0.1", "v1.2.3", "file.txt", "C:\\Users"]]
    return items


def punctuation_items() -> list[tuple[str, str]]:
    templates = [
        "Hello, world.", "Hello world!", "Hello world?", "Hello world?!", "Hello world!!!", "Hello world...", "Hello world…",
        "Wait... what?", "Wait… what?", "Well—I don't know.", "Well – I don't know.", "Well - I don't know.", "Well -- I don't know.",
        "He said, \"Hi.\"", "He said \"Hi\" and left.", "She said, “Yes!” Then left.", "‘Quoted’ words.", "'Single' quotes.", "It's «French» style.",
        "A (parenthetical) remark.", "A [bracketed] remark.", "A {braced} remark.", "First; second.", "First: second.", "One, two, three.",
        "Yes.No.", "Yes .No .", "Yes. no.", "Is it? yes.", "a.b.c", "end.\"", "end\".", "(end.)", "end.) Next.", "He left. She stayed.",
        "\"Stop!\" he cried.", "'Why?' she asked.", "Really?!", "No!?", "Wow!!", "Hmm...?", "...and then", "— dash first", "Item 1; item 2: item 3.",
        "Dear Sir,\nThank you.", "Line one\nLine two", "Tab\tseparated", "  leading spaces", "trailing spaces  ", "double  space",
        "semi;colon", "colon:no space", "comma,no space", "slash/separated", "back\\slash", "under_score", "a&b", "a+b=c", "a*b", "x^2", "~approx",
        "50/50", "24/7", "1-2-3", "A-B-C", "3.", "3,", "3!", "3?", "Number 3. Next", "Go to Figure 3. It shows", "The U.S. is big.", "I live in the U.S.",
        "He earned $5. Then more.", "At 5 p.m. we left.", "At 5 p.m. We left.", "¿Qué?", "¡Hola!", "Hello、world", "Hello。World", "Hello！", "Hello？",
        "“Nested ‘quotes’ here.”", "He said: “Go.”", "Ok… fine.", "So — yes.", "So –yes.", "word-word", "word—word", "word–word", "word...word",
        "Ellipsis . . . spaced", "Q: What? A: This.", "1) first 2) second", "a) one b) two", "• bullet", "* star", "# heading", "> quote",
    ]
    sentences = ["the cat sat", "we are done", "it has been moved", "call me later", "that is all"]
    items = [("punctuation", t) for t in templates]
    marks = [".", ",", ";", ":", "!", "?", "...", "…", " -", " —", "!?", "\"", ")", "'"]
    for s in sentences:
        for m in marks:
            items.append(("punctuation-joined", f"{s.capitalize()}{m} {s}{m}"))
            items.append(("punctuation-joined", f"{s.capitalize()}{m}{s.capitalize()}."))
    return items


def symbol_items() -> list[tuple[str, str]]:
    """Every character in the ranges Piper's espeak-ng counts as letters (U+2600-27BF, U+1F000-1FBFF)."""
    chars = [chr(c) for c in range(0x2600, 0x27C0)] + [chr(c) for c in range(0x1F000, 0x1FC00)]
    items = [("symbol", f"I like {c} a lot.") for c in chars if unicodedata.category(c) != "Cn"]
    items += [("symbol", t) for t in ["😀😀", "❤️", "👍🏽", "🇺🇸", "👨‍👩‍👧", "hi😀there", "✓ done", "★★★☆☆", "→ next", "©2024", "™", "§3"]]
    return items


def build_corpus() -> list[tuple[str, str]]:
    rng = random.Random(18)
    words, phrases = en_list_entries(EN_LIST)
    items = dictionary_items(words, phrases) + common_word_items() + number_items(rng)
    items += abbreviation_items() + mixed_case_items() + punctuation_items() + symbol_items()
    seen: set[str] = set()
    unique = []
    for category, text in items:
        if text in seen:
            continue
        seen.add(text)
        unique.append((category, text))
    return unique


def choose_sample(items: list[tuple[str, str]]) -> list[int]:
    """A fixed stratified sample: every category in proportion, at least 20 from each, plus SAMPLE_ALWAYS."""
    by_category: dict[str, list[int]] = {}
    for i, (category, _) in enumerate(items):
        by_category.setdefault(category, []).append(i)
    chosen = {i for i, (_, text) in enumerate(items) if text in SAMPLE_ALWAYS}
    for indices in by_category.values():
        share = max(min(20, len(indices)), round(len(indices) * SAMPLE_SIZE / len(items)))
        # Rank by a hash of the text so the choice does not move when unrelated items are added.
        ranked = sorted(indices, key=lambda i: hashlib.sha256(items[i][1].encode()).hexdigest())
        chosen.update(ranked[:share])
    return sorted(chosen)


def main() -> None:
    items = build_corpus()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with open(OUT_DIR / "corpus.tsv", "w", encoding="utf-8", newline="\n") as f:
        for category, text in items:
            f.write(f"{category}\t{escape(text)}\n")
    voice = load_voice()
    sample = [{"item": i + 1, "category": items[i][0], **phonemize_item(voice, items[i][1])} for i in choose_sample(items)]
    (OUT_DIR / "sample.json").write_text(to_json({"items": len(items), "sample": sample}) + "\n", encoding="utf-8")
    print(f"{len(items)} items, {len(sample)} in the sample", file=sys.stderr)


def escape(text: str) -> str:
    """A text with a tab, newline or backslash stays on one line: \\t \\n \\\\ (read back by sweep.read_corpus)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


if __name__ == "__main__":
    main()
