"""Línea Directa, assembled: the app factory (app.py) and the `ivr` command
line (cli.py). The one package that knows every other."""
