from app.core.modules import BaseModule, Manifest


class ClinicModule(BaseModule):
    manifest = Manifest("clinic")
