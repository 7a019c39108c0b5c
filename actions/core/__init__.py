"""Plain domain logic: imports nothing from Rasa and does no I/O at import time."""
