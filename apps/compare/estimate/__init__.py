"""The estimate core: a workload priced on candidate models under every caching strategy.

Pure Python, NumPy and the rating engine; nothing here imports Django or reads the
database (``apps.compare.sources`` reads the candidates and imported rows it is given).
Modules, each depending only on those above it:

* ``workload``: the bounds of a workload's fields and ``WorkloadError``;
* ``policy``: a cache policy as the core sees it and the strategies it offers;
* ``results``: candidates, per-strategy results, model estimates, money and the one
  "best strategy" rule;
* ``quick``: the quick workload in closed form;
* ``timeline``: requests as columns, and the conversation form that generates them;
* ``replay``: what each provider's cache does with a timeline;
* ``conversation``: a timeline priced exactly on every candidate;
* ``logs``: imported usage rows as a timeline.
"""
