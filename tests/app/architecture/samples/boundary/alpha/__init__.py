from app.core.modules import BaseModule, Manifest


class AlphaModule(BaseModule):
    manifest = Manifest("alpha")
