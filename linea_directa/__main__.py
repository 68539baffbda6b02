"""`python -m linea_directa …` is `ivr …`: how `ivr serve` starts its worker
with this very interpreter, whether or not the `ivr` script is on the PATH."""
from linea_directa.cli import main

main()
