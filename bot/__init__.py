"""Telegram front end: relays between Telegram (python-telegram-bot) and Rasa's REST channel.

It holds no business rules: identity, access and every answer come from the Rasa actions.
"""
