//! espeak-ng phonemization for Piper, clause by clause with the clause terminator.
//!
//! Piper (piper-tts 1.8) calls `espeak_TextToPhonemesWithTerminator`, which newer espeak-ng
//! releases export. The espeak-ng source vendored by espeak-rs-sys has the internal
//! `TranslateClauseWithTerminator` but not that exported wrapper, so `next_clause` performs
//! the same four calls the wrapper makes.

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
}

const ESPEAK_CHARS_UTF8: c_int = 1;
const ESPEAK_PHONEMES_IPA: c_int = 0x02;

/// espeak-ng keeps its state in globals: every call goes through this lock, which also
/// remembers the voice currently selected.
static STATE: Mutex<Option<String>> = Mutex::new(None);
static INITIALIZED: Mutex<Option<String>> = Mutex::new(None);

/// One clause: its IPA phonemes and espeak's raw clause terminator flags.
#[napi(object)]
pub struct Clause {
    pub phonemes: String,
    pub terminator: u32,
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
    let text = CString::new(text.replace('\0', "")).expect("NUL bytes removed");
    let mut cursor: *const c_char = text.as_ptr();
    let mut clauses = Vec::new();
    while !cursor.is_null() {
        clauses.push(unsafe { next_clause(&mut cursor) }?);
    }
    Ok(clauses)
}

/// The body of espeak-ng's `espeak_TextToPhonemesWithTerminator`: decode from `cursor`,
/// translate one clause, advance `cursor` (to NULL at the end of the text).
unsafe fn next_clause(cursor: &mut *const c_char) -> Result<Clause> {
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
    let phonemes = if phonemes.is_null() { String::new() } else { CStr::from_ptr(phonemes).to_string_lossy().into_owned() };
    Ok(Clause { phonemes, terminator: terminator as u32 })
}
