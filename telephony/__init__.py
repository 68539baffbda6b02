"""Our side of Twilio's REST API: steering live calls (the caller's and the
agent's legs) by their Sids. Channels reach it through `app.extensions
["call_control"]`, so a test can hand the real adapter a fake transport."""
