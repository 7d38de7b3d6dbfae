"""Recipe packs: folders of recipes, prompts and seed data that people share.

See ``docs/packs.md``. One module per concept, read in this order:

- ``manifest``: ``pack.yaml`` → ``Manifest`` (errors at line:col); ``versions``: semver
  and ranges; ``refs``: ``NAME/RECIPE@RANGE`` in ``use:``;
- ``limits``: every size cap; ``archive``: checked extraction; ``fetch``: a SOURCE
  (folder, archive, URL, git) into a scratch folder; ``hashing``: the content hash;
- ``store``: where packs are installed and the lookup order; ``lock``: ``synthdsl.lock``;
  ``install``: fetch → check → atomic rename, ``restore``, ``remove``;
- ``scaffold``: the files of ``pack new``; ``errors``: ``PackError`` (exit 2),
  ``PackFetchError`` (exit 1).

This layer sits beside ``nodes`` (above ``lang``): it reads YAML with positions but
cannot compile, so ``install`` takes the check of a pack's recipes as a function
(``cli/pack.py`` passes one built on ``validate``), and ``compile/packuse.py`` resolves
``use:`` through ``store``. Nothing here imports or runs code from a pack. Importing
this package does nothing.
"""
