"""Handlers: CRM + domain logic for one turn. Plain Python (no Rasa); the dialogue layer calls them."""
