//! espeak-ng phonemization for Piper, clause by clause with the clause terminator.
//!
//! Piper (piper-tts 1.8) calls `espeak_TextToPhonemesWithTerminator`, which newer espeak-ng
//! releases export. The espeak-ng source vendored by espeak-rs-sys has the internal
//! `TranslateClauseWithTerminator` but not that exported wrapper, so `next_clause` performs
//! the same four calls the wrapper makes.
//!
//! For word timings each clause also says where each of its IPA words came from in the text:
//! build.mjs patches `GetTranslatedPhonemeString` to record, per word it writes, the output
//! offset and the `sourceix` of the word's first phoneme.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::Mutex;

use espeak_rs_sys::{espeak_AUDIO_OUTPUT_AUDIO_OUTPUT_SYNCHRONOUS, espeak_Initialize, espeak_SetVoiceByName};
use napi::{Error, Result};
use napi_derive::napi;

extern "C" {
    static mut p_decoder: *mut c_void;
    static mut translator: *mut c_void;
    fn create_text_decoder() -> *mut c_void;
    fn text_decoder_decode_string_multibyte(decoder: *mut c_void, text: *const c_char, encoding: c_int, flags: c_int) -> c_int;
    fn TranslateClauseWithTerminator(tr: *mut c_void, tone: *mut c_int, voice_change: *mut *mut c_char, terminator: *mut c_int);
    fn text_decoder_get_buffer(decoder: *mut c_void) -> *const c_char;
    fn GetTranslatedPhonemeString(phoneme_mode: c_int) -> *const c_char;
    /// Characters the text decoder had given out when the last clause's translation began.
    static clause_start_char: c_int;
    // The words of the last GetTranslatedPhonemeString output (build.mjs patches them in).
    static aetheros_word_count: c_int;
    static aetheros_word_offsets: [u32; N_PHONEME_LIST];
    static aetheros_word_sources: [u16; N_PHONEME_LIST];
}

/// espeak-ng's synthesize.h: the length of its phoneme list, and of the word records.
const N_PHONEME_LIST: usize = 1000;
/// `sourceix` bits 0-10: the word's position in its clause's text.
const SOURCE_POSITION_MASK: u16 = 0x7ff;

const ESPEAK_CHARS_UTF8: c_int = 1;
const ESPEAK_PHONEMES_IPA: c_int = 0x02;

/// espeak-ng keeps its state in globals: every call goes through this lock, which also
/// remembers the voice currently selected.
static STATE: Mutex<Option<String>> = Mutex::new(None);
static INITIALIZED: Mutex<Option<String>> = Mutex::new(None);

/// One clause: its IPA phonemes, espeak's raw clause terminator flags, its words and its end.
#[napi(object)]
pub struct Clause {
    pub phonemes: String,
    pub terminator: u32,
    /// One per word espeak wrote into `phonemes`, in order.
    pub words: Vec<ClauseWord>,
    /// Where, in code points of the text, the next clause begins (the text's length for the
    /// last clause): the clause holds the text before it, with the spaces after its terminator.
    pub end: u32,
}

/// A word of a clause's IPA: where it begins in `phonemes` (at the space before it, if any)
/// and where, in the text, the text word it was spoken for begins; both in code points.
/// A dictionary entry or number spoken as several IPA words gives each the text word's start.
#[napi(object)]
pub struct ClauseWord {
    pub phoneme_start: u32,
    pub text_start: u32,
}

/// Loads espeak-ng's data from `data_dir` (the folder that contains `espeak-ng-data`).
/// Calling it again with the same folder does nothing.
#[napi]
pub fn initialize(data_dir: String) -> Result<()> {
    let mut initialized = INITIALIZED.lock().map_err(|_| Error::from_reason("espeak-ng lock poisoned"))?;
    if let Some(existing) = initialized.as_ref() {
        if *existing == data_dir {
            return Ok(());
        }
        return Err(Error::from_reason(format!("espeak-ng is already initialized from {existing}")));
    }
    let path = CString::new(data_dir.clone()).map_err(|_| Error::from_reason("data_dir contains a NUL byte"))?;
    let rate = unsafe { espeak_Initialize(espeak_AUDIO_OUTPUT_AUDIO_OUTPUT_SYNCHRONOUS, 0, path.as_ptr(), 0) };
    if rate < 0 {
        return Err(Error::from_reason(format!("espeak-ng could not load its data from {data_dir}")));
    }
    *initialized = Some(data_dir);
    Ok(())
}

/// Phonemizes `text` with the espeak-ng voice `voice`, one entry per clause.
#[napi]
pub fn phonemize(voice: String, text: String) -> Result<Vec<Clause>> {
    if INITIALIZED.lock().map(|i| i.is_none()).unwrap_or(true) {
        return Err(Error::from_reason("espeak-ng is not initialized"));
    }
    let mut current_voice = STATE.lock().map_err(|_| Error::from_reason("espeak-ng lock poisoned"))?;
    if current_voice.as_deref() != Some(voice.as_str()) {
        let name = CString::new(voice.clone()).map_err(|_| Error::from_reason("voice contains a NUL byte"))?;
        if unsafe { espeak_SetVoiceByName(name.as_ptr()) } != 0 {
            *current_voice = None;
            return Err(Error::from_reason(format!("espeak-ng has no voice named \"{voice}\"")));
        }
        *current_voice = Some(voice);
    }
    // Interior NUL bytes would end the C string early; espeak treats them as nothing anyway.
    // Positions in the text without them are mapped back to the text given.
    let original_index: Vec<u32> = text.chars().enumerate().filter(|(_, c)| *c != '\0').map(|(i, _)| i as u32).collect();
    let length = text.chars().count() as u32;
    let to_original = |index: i64| -> u32 {
        if index < 0 {
            0
        } else {
            original_index.get(index as usize).copied().unwrap_or(length)
        }
    };
    let text = CString::new(text.replace('\0', "")).expect("NUL bytes removed");
    let mut cursor: *const c_char = text.as_ptr();
    let mut translated = Vec::new();
    while !cursor.is_null() {
        translated.push(unsafe { next_clause(&mut cursor) }?);
    }
    // espeak counts the characters its decoder gives out (code points) and places a word at
    // charix = (characters given out when the word's character was read) - clause_start_char.
    // It reads one character ahead, so the text's first character has charix 2.
    let first_start = translated.first().map_or(0, |clause| clause.start_char) as i64;
    let text_index = |clause: &TranslatedClause, position: u16| clause.start_char as i64 - first_start + position as i64 - 2;
    let clauses = translated
        .iter()
        .enumerate()
        .map(|(i, clause)| {
            let mut words: Vec<ClauseWord> = Vec::with_capacity(clause.words.len());
            // The sourceix and text start of the word that began the current dictionary entry.
            let mut entry: Option<(u16, u32)> = None;
            for &(phoneme_start, source) in &clause.words {
                // A `||` word break inside one dictionary entry or number ("123" is "one
                // hundred || twenty || three") gives every word after it the entry's sourceix + 1.
                let text_start = match entry {
                    Some((entry_source, entry_start)) if source == entry_source.wrapping_add(1) => entry_start,
                    _ => {
                        let start = to_original(text_index(clause, source & SOURCE_POSITION_MASK));
                        entry = Some((source, start));
                        start
                    }
                };
                words.push(ClauseWord { phoneme_start, text_start });
            }
            // The next clause begins with the character this one read ahead and gave back.
            let end = match translated.get(i + 1) {
                Some(next) => to_original(next.start_char as i64 - first_start - 1),
                None => length,
            };
            Clause { phonemes: clause.phonemes.clone(), terminator: clause.terminator, words, end }
        })
        .collect();
    Ok(clauses)
}

struct TranslatedClause {
    phonemes: String,
    terminator: u32,
    /// espeak's clause_start_char for this clause.
    start_char: c_int,
    /// Per IPA word: its start in `phonemes` (code points) and its first phoneme's sourceix.
    words: Vec<(u32, u16)>,
}

/// The body of espeak-ng's `espeak_TextToPhonemesWithTerminator`: decode from `cursor`,
/// translate one clause, advance `cursor` (to NULL at the end of the text).
unsafe fn next_clause(cursor: &mut *const c_char) -> Result<TranslatedClause> {
    if p_decoder.is_null() {
        p_decoder = create_text_decoder();
    }
    if text_decoder_decode_string_multibyte(p_decoder, *cursor, 0, ESPEAK_CHARS_UTF8) != 0 {
        return Err(Error::from_reason("espeak-ng could not decode the text"));
    }
    let mut terminator: c_int = 0;
    TranslateClauseWithTerminator(translator, std::ptr::null_mut(), std::ptr::null_mut(), &mut terminator);
    *cursor = text_decoder_get_buffer(p_decoder);
    let phonemes = GetTranslatedPhonemeString(ESPEAK_PHONEMES_IPA);
    let bytes = if phonemes.is_null() { &[][..] } else { CStr::from_ptr(phonemes).to_bytes() };
    let count = (aetheros_word_count.max(0) as usize).min(N_PHONEME_LIST);
    let words = (0..count)
        .map(|i| {
            let offset = (aetheros_word_offsets[i] as usize).min(bytes.len());
            (String::from_utf8_lossy(&bytes[..offset]).chars().count() as u32, aetheros_word_sources[i])
        })
        .collect();
    let phonemes = String::from_utf8_lossy(bytes).into_owned();
    Ok(TranslatedClause { phonemes, terminator: terminator as u32, start_char: clause_start_char, words })
}
