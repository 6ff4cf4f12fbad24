/**
 * Attribute values of `<break>`, `<prosody>` and `<emphasis>` → numbers. The named values
 * follow Azure's published table where it has one (it is the only big vendor that gives
 * numbers); the ranges keep Piper's voices intelligible and the audio bounded.
 */
import type { Prosody } from "./script.js";

/** A value the caller wrote wrong; the parser adds where and in which attribute. */
export class ValueProblem extends Error {}

/** Longest single `<break>`: Google and Polly refuse more than 10 s. */
export const MAX_BREAK_SECONDS = 10;
/** Most silence all `<break>`s of one document may add up to. */
export const MAX_TOTAL_BREAK_SECONDS = 60;

/**
 * `<break strength>` in seconds (Azure's values). A `<break>` with neither `time` nor
 * `strength` is "medium"; `time` wins when both are given.
 */
export const BREAK_STRENGTH_SECONDS: Readonly<Record<string, number>> = {
  none: 0,
  "x-weak": 0.25,
  weak: 0.5,
  medium: 0.75,
  strong: 1,
  "x-strong": 1.25,
};

/** Composed speaking rate allowed, as a multiplier: Piper's voices slur past 2× and drawl under 0.5×. */
export const RATE_RANGE = { min: 0.5, max: 2 } as const;
/** Composed pitch shift allowed, in semitones: an octave either way. */
export const PITCH_RANGE_SEMITONES = { min: -12, max: 12 } as const;
/** Composed gain allowed, in dB (besides "silent"): +12 dB is four times the amplitude, -40 dB a whisper. */
export const VOLUME_RANGE_DB = { min: -40, max: 12 } as const;
/** `volume="silent"`: below 16-bit PCM's smallest step, so the samples are zero. */
export const SILENT_DB = -120;

/** Named rates: absolute multipliers of the voice's normal rate (Azure's values). */
export const NAMED_RATES: Readonly<Record<string, number>> = {
  "x-slow": 0.5,
  slow: 0.64,
  medium: 1,
  default: 1,
  fast: 1.55,
  "x-fast": 2,
};
/** Named pitches: absolute shifts in semitones from the voice's own pitch. */
export const NAMED_PITCHES_SEMITONES: Readonly<Record<string, number>> = {
  "x-low": -6,
  low: -3,
  medium: 0,
  default: 0,
  high: 3,
  "x-high": 6,
};
/** Named volumes: absolute gains in dB. */
export const NAMED_VOLUMES_DB: Readonly<Record<string, number>> = {
  silent: SILENT_DB,
  "x-soft": -12,
  soft: -6,
  medium: 0,
  default: 0,
  loud: 4,
  "x-loud": 8,
};

/**
 * `<emphasis level>` approximated through prosody (Polly: more emphasis is louder and
 * slower): the rate multiplies and the gain adds to what is in force.
 */
export const EMPHASIS_PROSODY: Readonly<Record<string, { rate: number; volumeDb: number }>> = {
  strong: { rate: 0.85, volumeDb: 4 },
  moderate: { rate: 0.92, volumeDb: 2 },
  none: { rate: 1, volumeDb: 0 },
  reduced: { rate: 1.1, volumeDb: -4 },
};

export const NORMAL_PROSODY: Prosody = Object.freeze({ rate: 1, pitchSemitones: 0, volumeDb: 0 });

const NUMBER = String.raw`(\d+(?:\.\d+)?|\.\d+)`;
const TIME = new RegExp(`^${NUMBER}(ms|s)$`);
const PERCENT = new RegExp(`^([+-]?)${NUMBER}%$`);
const SEMITONES = new RegExp(`^([+-])${NUMBER}st$`);
const DECIBELS = new RegExp(`^([+-]?)${NUMBER}dB$`);
const MULTIPLIER = new RegExp(`^${NUMBER}$`);

/** `time`: "500ms", "2s", "1.5s". */
export function breakSeconds(time: string): number {
  const match = TIME.exec(time.trim());
  if (!match) throw new ValueProblem(`expected a duration such as "500ms" or "2s"`);
  const seconds = Number(match[1]) / (match[2] === "ms" ? 1000 : 1);
  if (seconds > MAX_BREAK_SECONDS) throw new ValueProblem(`a break of ${seconds} s is too long; allowed 0 to ${MAX_BREAK_SECONDS} s`);
  return seconds;
}

export function breakStrengthSeconds(strength: string): number {
  const seconds = BREAK_STRENGTH_SECONDS[strength];
  if (seconds === undefined) throw new ValueProblem(`expected one of ${Object.keys(BREAK_STRENGTH_SECONDS).join(", ")}`);
  return seconds;
}

/**
 * `rate` applied to the rate in force: a named value replaces it; "80%" (Polly, Google)
 * multiplies it by 0.8, "+10%"/"-10%" (Azure) by 1.1/0.9, a bare number (Azure) by itself.
 */
export function composeRate(value: string, current: number): number {
  const named = NAMED_RATES[value];
  if (named !== undefined) return named;
  const percent = PERCENT.exec(value);
  if (percent) {
    const amount = Number(percent[2]) / 100;
    return current * (percent[1] === "" ? amount : percent[1] === "+" ? 1 + amount : 1 - amount);
  }
  if (MULTIPLIER.test(value)) return current * Number(value);
  throw new ValueProblem(`expected a percentage such as "80%" or "+10%", a multiplier such as "1.2", or one of ${names(NAMED_RATES)}`);
}

/**
 * `pitch` applied to the shift in force: a named value replaces it; "+2st" adds semitones;
 * "+10%"/"-10%" adds the semitones of that frequency ratio (12·log2(1.1) ≈ +1.65 st).
 * Hertz values are refused: they need the voice's base frequency, which Piper voices do not state.
 */
export function composePitch(value: string, current: number): number {
  const named = NAMED_PITCHES_SEMITONES[value];
  if (named !== undefined) return named;
  const semitones = SEMITONES.exec(value);
  if (semitones) return current + (semitones[1] === "-" ? -1 : 1) * Number(semitones[2]);
  const percent = PERCENT.exec(value);
  if (percent && percent[1] !== "") {
    const ratio = 1 + ((percent[1] === "-" ? -1 : 1) * Number(percent[2])) / 100;
    if (ratio <= 0) throw new ValueProblem(`${value} would leave no pitch; a decrease must be under 100%`);
    return current + 12 * Math.log2(ratio);
  }
  throw new ValueProblem(
    `expected semitones such as "+2st", a relative change such as "-10%", or one of ${names(NAMED_PITCHES_SEMITONES)}`,
  );
}

/** `volume` applied to the gain in force: a named value replaces it; "+3dB"/"-6dB" adds. */
export function composeVolume(value: string, current: number): number {
  const named = NAMED_VOLUMES_DB[value];
  if (named !== undefined) return named;
  const decibels = DECIBELS.exec(value);
  if (decibels) return current === SILENT_DB ? SILENT_DB : current + (decibels[1] === "-" ? -1 : 1) * Number(decibels[2]);
  throw new ValueProblem(`expected decibels such as "+3dB" or "-6dB", or one of ${names(NAMED_VOLUMES_DB)}`);
}

/** Throws when a composed prosody leaves its range, naming the attribute and the range. */
export function checkProsodyRange(prosody: Prosody): void {
  if (prosody.rate < RATE_RANGE.min - 1e-9 || prosody.rate > RATE_RANGE.max + 1e-9) {
    throw new ValueProblem(
      `rate: the speaking rate would be ${round(prosody.rate)}× normal (nested rates multiply); allowed ${RATE_RANGE.min}× to ${RATE_RANGE.max}× (${RATE_RANGE.min * 100}% to ${RATE_RANGE.max * 100}%)`,
    );
  }
  const pitch = prosody.pitchSemitones;
  if (pitch < PITCH_RANGE_SEMITONES.min - 1e-9 || pitch > PITCH_RANGE_SEMITONES.max + 1e-9) {
    throw new ValueProblem(
      `pitch: the pitch would shift ${round(pitch)} semitones (nested shifts add); allowed ${PITCH_RANGE_SEMITONES.min}st to +${PITCH_RANGE_SEMITONES.max}st`,
    );
  }
  const volume = prosody.volumeDb;
  if (volume !== SILENT_DB && (volume < VOLUME_RANGE_DB.min - 1e-9 || volume > VOLUME_RANGE_DB.max + 1e-9)) {
    throw new ValueProblem(
      `volume: the gain would be ${round(volume)} dB (nested gains add); allowed ${VOLUME_RANGE_DB.min}dB to +${VOLUME_RANGE_DB.max}dB, or "silent"`,
    );
  }
}

function names(table: Readonly<Record<string, number>>): string {
  return Object.keys(table).join(", ");
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
