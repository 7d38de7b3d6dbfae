"""Charts as inline SVG: one drawing stack for the run report and the collapse simulation.

``svg`` holds the primitives (escaping, coordinates, number and tick formats, the
``<svg>`` element, colours); ``bars``, ``histogram``, ``band``, ``bullet`` and ``lines``
each draw one kind of chart with them.
"""
