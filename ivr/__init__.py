"""Línea Directa's phone side (webhooks and the menu interpreter), plus the app
factory and the `ivr` command line that serve every channel."""
