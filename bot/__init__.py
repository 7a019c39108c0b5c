"""Chat front ends: relay between a chat service (Telegram, 企业微信) and Rasa's REST channel.

They hold no business rules: identity, access and every answer come from the Rasa actions. What
both channels need is here once (relay.py, rasa.py, render.py, state.py, digest.py, config.py);
telegram_app.py and wecom_app.py are the thin adapters.
"""
