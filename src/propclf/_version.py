"""The package's version, read from here by the build too (pyproject.toml's ``[tool.hatch.version]``)."""

__version__ = "0.1.0"
