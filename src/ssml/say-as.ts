/**
 * `<say-as>` → the text espeak-ng's English (Piper's phonemizer) reads as asked. Each form
 * was checked against the phonemes espeak gives (test/ssml/say-as.test.ts keeps them):
 * espeak reads numerals, "3rd", "5th", "PM" and single capital letters well, reads "A"
 * before a word as the article (so it is written "eh"), and reads "2024" as "two thousand
 * twenty four" (so years are split: "20 24").
 */
import { ValueProblem } from "./values.js";

export const INTERPRET_AS = [
  "characters",
  "spell-out",
  "verbatim",
  "cardinal",
  "number",
  "ordinal",
  "digits",
  "telephone",
  "date",
  "time",
] as const;
export type InterpretAs = (typeof INTERPRET_AS)[number];

export const DATE_FORMATS = ["mdy", "dmy", "ymd", "md", "dm", "ym", "my", "y", "m", "d"] as const;
export const TIME_FORMATS = ["hms12", "hms24"] as const;

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Names espeak gives no sound (or a wrong one) for when a symbol stands alone. */
const SYMBOL_NAMES: Readonly<Record<string, string>> = {
  "-": "dash",
  _: "underscore",
  ".": "dot",
  ",": "comma",
  "/": "slash",
  "\\": "backslash",
  ":": "colon",
  ";": "semicolon",
  "!": "exclamation mark",
  "?": "question mark",
  "'": "apostrophe",
  '"': "quote",
  "(": "open parenthesis",
  ")": "close parenthesis",
  "+": "plus",
  "=": "equals",
  "*": "star",
};

export function isInterpretAs(value: string): value is InterpretAs {
  return (INTERPRET_AS as readonly string[]).includes(value);
}

/** The text to speak for `content` read as `interpretAs`; ValueProblem when it is not one. */
export function expandSayAs(interpretAs: InterpretAs, content: string, format: string | undefined): string {
  const text = content.trim();
  switch (interpretAs) {
    case "characters":
    case "spell-out":
    case "verbatim":
      return characters(text);
    case "cardinal":
    case "number":
      return cardinal(text);
    case "ordinal":
      return ordinal(text);
    case "digits":
      return digits(text);
    case "telephone":
      return telephone(text);
    case "date":
      return date(text, format);
    case "time":
      return time(text, format);
  }
}

/** Each character by its name: letters as capitals, one word each. */
function characters(text: string): string {
  const spoken: string[] = [];
  for (const char of text) {
    if (/\s/u.test(char)) continue;
    if (/\p{L}/u.test(char)) spoken.push(char.toUpperCase() === "A" ? "eh" : char.toUpperCase());
    else spoken.push(SYMBOL_NAMES[char] ?? char);
  }
  if (spoken.length === 0) throw new ValueProblem("nothing to spell");
  return spoken.join(" ");
}

function cardinal(text: string): string {
  const compact = text.replace(/[,\s]/g, "");
  if (!/^[+-]?(\d+(\.\d+)?|\.\d+)$/.test(compact))
    throw new ValueProblem(`${JSON.stringify(text)} is not a number; expected e.g. "1234", "-12.5" or "1,234"`);
  if (compact.startsWith("+")) return `plus ${compact.slice(1)}`;
  return compact;
}

function ordinal(text: string): string {
  const match = /^(\d+)(st|nd|rd|th)?$/i.exec(text.replace(/[,\s]/g, ""));
  if (!match) throw new ValueProblem(`${JSON.stringify(text)} is not a whole number; expected e.g. "3" or "21st"`);
  return ordinalOf(match[1]!);
}

function ordinalOf(number: string): string {
  const n = BigInt(number);
  const lastTwo = Number(n % 100n);
  const suffix = lastTwo >= 11 && lastTwo <= 13 ? "th" : (["th", "st", "nd", "rd"][lastTwo % 10] ?? "th");
  return `${n}${suffix}`;
}

function digits(text: string): string {
  const compact = text.replace(/[\s-]/g, "");
  if (!/^\d+$/.test(compact)) throw new ValueProblem(`${JSON.stringify(text)} has characters other than digits 0-9`);
  return [...compact].join(" ");
}

/** Digit by digit, a pause (comma) between the number's groups; "+" is read "plus". */
function telephone(text: string): string {
  const plus = text.startsWith("+");
  const rest = plus ? text.slice(1) : text;
  if (!/^[\d\s().-]+$/.test(rest) || !/\d/.test(rest)) {
    throw new ValueProblem(
      `${JSON.stringify(text)} is not a telephone number; expected digits, optionally "+" first and "-", ".", " ", "(", ")" between groups`,
    );
  }
  let groups = rest.split(/[\s().-]+/).filter((group) => group !== "");
  if (groups.length === 1) groups = splitDigitRun(groups[0]!);
  const spoken = groups.map((group) => [...group].join(" ")).join(", ");
  return plus ? `plus ${spoken}` : spoken;
}

/** An unbroken run of digits grouped as North American numbers are: four last, threes before (1 800 555 0199). */
function splitDigitRun(run: string): string[] {
  if (run.length <= 4) return [run];
  const groups = [run.slice(-4)];
  let end = run.length - 4;
  for (; end > 0; end -= 3) groups.unshift(run.slice(Math.max(0, end - 3), end));
  return groups;
}

/** Fields by `format` (default: "ymd" for ISO 2024-03-05, else "mdy"), read as "March 5th, 20 24". */
function date(text: string, format: string | undefined): string {
  const fields = text.split(/[-/.\s]+/).filter((field) => field !== "");
  const order = format ?? (/^\d{4}-\d{1,2}-\d{1,2}$/.test(text) ? "ymd" : "mdy");
  if (!(DATE_FORMATS as readonly string[]).includes(order)) throw new ValueProblem(`format: expected one of ${DATE_FORMATS.join(", ")}`);
  if (fields.length !== order.length || !fields.every((field) => /^\d+$/.test(field))) {
    throw new ValueProblem(
      `${JSON.stringify(text)} does not match format "${order}"; expected ${order.length} numbers separated by "-", "/", "." or spaces`,
    );
  }
  const value = (letter: string): number | undefined => {
    const index = order.indexOf(letter);
    return index < 0 ? undefined : Number(fields[index]);
  };
  const year = value("y");
  const month = value("m");
  const day = value("d");
  if (month !== undefined && (month < 1 || month > 12)) throw new ValueProblem(`month ${month} is out of range; allowed 1 to 12`);
  if (day !== undefined) {
    const limit = month === undefined ? 31 : DAYS_IN_MONTH[month - 1]!;
    if (day < 1 || day > limit) throw new ValueProblem(`day ${day} is out of range; allowed 1 to ${limit}`);
  }
  const monthName = month === undefined ? undefined : MONTHS[month - 1]!;
  const dayName = day === undefined ? undefined : ordinalOf(String(day));
  const yearName = year === undefined ? undefined : yearWords(year);
  if (monthName && dayName) return yearName ? `${monthName} ${dayName}, ${yearName}` : `${monthName} ${dayName}`;
  if (monthName) return yearName ? `${monthName} ${yearName}` : monthName;
  if (dayName) return `the ${dayName}`;
  return yearName!;
}

/** A year as people say it: 1999 "19 99", 1905 "19 oh 5", 1900 "19 hundred", 2005 "2005". */
function yearWords(year: number): string {
  if (year < 1000 || year > 9999 || (year >= 2000 && year <= 2009)) return String(year);
  const high = Math.floor(year / 100);
  const low = year % 100;
  if (low === 0) return `${high} hundred`;
  return low < 10 ? `${high} oh ${low}` : `${high} ${low}`;
}

/** "7:15" "seven fifteen", "19:05" "nineteen oh five", "7:00 pm" "seven PM", "10:30:15". */
function time(text: string, format: string | undefined): string {
  if (format !== undefined && !(TIME_FORMATS as readonly string[]).includes(format)) {
    throw new ValueProblem(`format: expected one of ${TIME_FORMATS.join(", ")}`);
  }
  const match = /^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap])?\.?\s*(m\.?)?$/i.exec(text);
  if (!match || (match[4] !== undefined) !== (match[5] !== undefined)) {
    throw new ValueProblem(`${JSON.stringify(text)} is not a time; expected e.g. "7:15", "19:05", "7:15 pm" or "10:30:15"`);
  }
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  const second = match[3] === undefined ? undefined : Number(match[3]);
  const meridiem = match[4] === undefined ? undefined : `${match[4].toUpperCase()}M`;
  const maxHour = meridiem ? 12 : 23;
  if (hour > maxHour || (meridiem && hour === 0))
    throw new ValueProblem(`hour ${hour} is out of range; allowed ${meridiem ? 1 : 0} to ${maxHour}`);
  if (minute > 59) throw new ValueProblem(`minute ${minute} is out of range; allowed 0 to 59`);
  if (second !== undefined && second > 59) throw new ValueProblem(`second ${second} is out of range; allowed 0 to 59`);
  const words = [String(hour)];
  if (minute === 0 && second === undefined) words.push(meridiem ? "" : "o'clock");
  else words.push(minute < 10 ? `oh ${minute}` : String(minute));
  if (second !== undefined) words.push(`and ${second} ${second === 1 ? "second" : "seconds"}`);
  if (meridiem) words.push(meridiem);
  return words.filter((word) => word !== "").join(" ");
}
