"""Sample module trees for the architecture checks: each plants one kind of violation."""
