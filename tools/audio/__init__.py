"""Recording the prompts: text-to-speech, telephony WAVs, the manifest, checks.
The runtime only reads what this builds (ivr/audio/)."""
