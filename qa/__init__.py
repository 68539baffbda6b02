"""QA tools over the call simulator: transcripts, replay, coverage, load, softphone."""
