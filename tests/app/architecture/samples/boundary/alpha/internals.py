"""alpha's private state: nothing outside alpha may import it without depending on alpha."""

SECRET = 42
