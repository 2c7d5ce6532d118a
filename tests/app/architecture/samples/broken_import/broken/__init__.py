"""Its manifest is read from this source, since the import fails."""

from app.core.modules import BaseModule, Manifest

from . import exploding


class BrokenModule(BaseModule):
    manifest = Manifest("broken", depends=("other",))
    version = exploding.VERSION
