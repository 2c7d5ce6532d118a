from app.core.modules import BaseModule, Manifest


class BetaModule(BaseModule):
    manifest = Manifest("beta")
