"""beta reaches into alpha three ways without depending on it; gamma depends on alpha."""
