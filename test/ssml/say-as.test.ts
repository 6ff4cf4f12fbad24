/**
 * `<say-as>` as heard: each expansion goes through the real espeak-ng phonemizer with the
 * default voice, and the phonemes must be the reading a listener expects (letter names,
 * one digit at a time, "third", "March fifth, twenty twenty-four", "nineteen oh five").
 */
import { describe, expect, it } from "vitest";
import { planSpeech, readVoiceConfig } from "../../src/engine/index.js";
import { InvalidArgumentError } from "../../src/errors/index.js";
import { parseSsml, type TextSegment } from "../../src/ssml/index.js";
import { DEFAULT_CONFIG } from "../support/voice.js";

const voice = await readVoiceConfig(DEFAULT_CONFIG);

function sayAs(interpretAs: string, content: string, format?: string): string {
  const formatAttribute = format === undefined ? "" : ` format="${format}"`;
  const script = parseSsml(`<speak><say-as interpret-as="${interpretAs}"${formatAttribute}>${content}</say-as></speak>`);
  return (script.segments[0] as TextSegment).text;
}

function heard(text: string): string {
  return planSpeech(text, voice)
    .sentences.map((sentence) => sentence.phonemes.join(""))
    .join(" ");
}

describe("say-as, through espeak-ng", () => {
  it.each([
    ["characters", "Abc", undefined, "eh B C", "ˈeɪ bˈiː sˈiː"],
    ["spell-out", "a1-", undefined, "eh 1 dash", "ˈeɪ wˈʌn dˈæʃ"],
    ["digits", "1203", undefined, "1 2 0 3", "wˈʌn tˈuː zˈiəɹoʊ θɹˈiː"],
    ["cardinal", "1,234", undefined, "1234", "wˈʌn θˈaʊzənd tˈuːhˈʌndɹɪd θˈɜːɾi fˈɔːɹ"],
    ["ordinal", "3", undefined, "3rd", "θˈɜːd"],
    ["ordinal", "112", undefined, "112th", "wˈʌnhˈʌndɹɪd twˈɛlfθ"],
    ["telephone", "555-0199", undefined, "5 5 5, 0 1 9 9", "fˈaɪv fˈaɪv fˈaɪv, zˈiəɹoʊ wˈʌn nˈaɪn nˈaɪn"],
    [
      "telephone",
      "+18005550199",
      undefined,
      "plus 1, 8 0 0, 5 5 5, 0 1 9 9",
      "plˈʌs wˈʌn, ˈeɪt zˈiəɹoʊ zˈiəɹoʊ, fˈaɪv fˈaɪv fˈaɪv, zˈiəɹoʊ wˈʌn nˈaɪn nˈaɪn",
    ],
    ["date", "2024-03-05", undefined, "March 5th, 20 24", "mˈɑːɹtʃ fˈɪfθ, twˈɛnti twˈɛnti fˈɔːɹ"],
    ["date", "5.3.1905", "dmy", "March 5th, 19 oh 5", "mˈɑːɹtʃ fˈɪfθ, nˈaɪntiːn ˈoʊ fˈaɪv"],
    ["date", "12/2000", "my", "December 2000", "dᵻsˈɛmbɚ tˈuː θˈaʊzənd"],
    ["date", "31", "d", "the 31st", "ðə θˈɜːɾi fˈɜːst"],
    ["time", "19:05", undefined, "19 oh 5", "nˈaɪntiːn ˈoʊ fˈaɪv"],
    ["time", "7:00", undefined, "7 o'clock", "sˈɛvən əklˈɑːk"],
    ["time", "7:15 pm", undefined, "7 15 PM", "sˈɛvən fˈɪftiːn pˌiːʲˈɛm"],
  ])("%s %s → %s", (interpretAs, content, format, text, phonemes) => {
    const expansion = sayAs(interpretAs, content, format);
    expect(expansion).toBe(text);
    expect(heard(expansion)).toBe(phonemes);
  });

  it.each([
    ["cardinal", "twelve", '<say-as>: "twelve" is not a number; expected e.g. "1234", "-12.5" or "1,234"'],
    ["digits", "12a", '<say-as>: "12a" has characters other than digits 0-9'],
    ["date", "2023-02-30", "<say-as>: day 30 is out of range; allowed 1 to 29"],
    ["time", "24:00", "<say-as>: hour 24 is out of range; allowed 0 to 23"],
    ["time", "13:00 pm", "<say-as>: hour 13 is out of range; allowed 1 to 12"],
  ])("%s %s is refused", (interpretAs, content, problem) => {
    expect(() => sayAs(interpretAs, content)).toThrow(new InvalidArgumentError("ssml", `line 1, column 8: ${problem}`));
  });
});
