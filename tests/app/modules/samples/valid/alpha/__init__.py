"""A sample module with a blueprint and no handlers."""

from flask import Blueprint

from app.core.modules import BaseModule, Manifest

blueprint = Blueprint("alpha", __name__, url_prefix="/alpha")


@blueprint.get("/ping")
def ping() -> dict[str, bool]:
    return {"pong": True}


class AlphaModule(BaseModule):
    manifest = Manifest("alpha")

    def get_blueprint(self) -> Blueprint:
        return blueprint
