"""A module that fails to import: the static checks still run on its source."""
