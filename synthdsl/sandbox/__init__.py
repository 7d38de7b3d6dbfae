"""The verify sandbox: the host side (host.py), the in-sandbox launcher script
(launcher.py) and unittest-lite: the judge (judge.py), the solution process it drives
(remote.py, solution_server.py) and the plain-data codec between them (wire.py)."""
