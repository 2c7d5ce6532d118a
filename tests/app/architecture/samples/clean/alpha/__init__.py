"""Publishes patient events; its public read API is ``public.py``."""

from app.core.modules import BaseModule, Manifest


class AlphaModule(BaseModule):
    manifest = Manifest("alpha", version="2.0.0", description="publishes patient events")
