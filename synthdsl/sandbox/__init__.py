"""The verify sandbox: host side (host.py) and the child runner (child.py)."""
