"""A recipe pack carried by this Python package (entry point group ``synthdsl.packs``):
this folder holds ``pack.yaml`` and the recipes it exports."""
