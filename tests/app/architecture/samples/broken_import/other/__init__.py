from app.core.modules import BaseModule, Manifest


class OtherModule(BaseModule):
    manifest = Manifest("other")
