from app.core.modules import BaseModule, Manifest


class GammaModule(BaseModule):
    manifest = Manifest("gamma", depends=("alpha",))
