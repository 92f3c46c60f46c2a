"""The stages of an import under ``services`` (create, run, cancel a job).

``reader``: the reading thread (sources, parsers) ahead of the writer; ``bounds``: what a
stored row may hold, checked for every record; ``rows``: merging and writing batches;
``ending``: failing a job and deleting its uploads; ``quotas``: per-user upload limits.
"""
