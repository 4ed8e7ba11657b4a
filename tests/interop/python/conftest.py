# Make the `clients` fixture from helpers.py available to every test module.
from helpers import clients  # noqa: F401
