"""Recipe packs: folders of recipes, prompts and seed data that people share.

See ``docs/packs.md``. (Filled in by the packs work.)
"""
