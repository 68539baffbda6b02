"""Recorded prompts: play mode (IVR_PROMPT_MODE=play) plays our own telephony
audio with <Play> instead of Twilio's <Say>.

  pieces.py    what must be recorded (prompt pieces, number words) and how a
               value is read as a sequence of recorded words
  manifest.py  audio/<language>/manifest.json: text hash -> file, text
  wavfile.py   8 kHz mono mu-law WAV: read the header, join pieces
  tts.py       the speech engine (espeak-ng), in its own process per text
  build.py     `ivr audio build`: render, trim, normalize, convert; incremental
  check.py     `ivr audio check`: every prompt has audio, every file a prompt
  library.py   the built audio of one language, as the app uses it
  player.py    a rendered prompt into <Play> (and <Say> for what cannot be recorded)
  web.py       serves audio/ to Twilio
  commands.py  the `ivr audio` command group
"""
