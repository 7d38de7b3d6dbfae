"""The Ray executor: the same compiled plan, its heavy record-at-a-time steps on Ray.

``driver.py`` connects to (or starts) Ray, starts the workers and the limiter service and
hands a map node's records to them in batches (``WorkerPool``); ``worker.py`` is the
worker actor (its own provider pool and the shared call cache); ``limiter.py`` the one
limiter service every worker's calls go through; ``counts.py`` the per-node counts a
worker sends back; ``setup.py`` what is shipped to a worker, and what is not (secrets).
Nothing here is imported unless ``synthdsl run --executor ray`` asks for it.
"""
