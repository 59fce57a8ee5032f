"""The echo service of DESIGN.md's usage sketch (echo.idl, main.py)."""
