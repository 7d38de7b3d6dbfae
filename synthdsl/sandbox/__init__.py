"""The verify sandbox: the host side (host.py), the in-sandbox launcher script
(launcher.py) and the unittest-lite child runner (child.py)."""
