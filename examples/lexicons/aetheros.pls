<?xml version="1.0" encoding="UTF-8"?>
<!-- Example pronunciation lexicon (W3C PLS 1.0). Copy it into LEXICONS_DIR and name it
     "aetheros" in a request's lexicons, or in DEFAULT_LEXICONS. -->
<lexicon version="1.0" alphabet="ipa" xml:lang="en-US"
         xmlns="http://www.w3.org/2005/01/pronunciation-lexicon">
  <lexeme>
    <grapheme>AetherOS</grapheme>
    <phoneme>ˈiːθɚ ˌoʊˈɛs</phoneme>
  </lexeme>
  <lexeme>
    <grapheme>TTS</grapheme>
    <alias>text to speech</alias>
  </lexeme>
  <lexeme>
    <grapheme>gif</grapheme>
    <phoneme>dʒˈɪf</phoneme>
  </lexeme>
</lexicon>
