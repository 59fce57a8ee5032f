"""The keyboard driver and UART console sample (samples/devices/main.py)."""
