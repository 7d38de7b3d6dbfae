"""Charts as inline SVG: one drawing stack for the run report and the collapse simulation."""
