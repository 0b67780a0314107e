"""Worker processes: the registry split over several processes, one per core.

``supervisor`` starts, configures, restarts and asks the workers, merges their ``/metrics``
and routes ``/api/``; ``worker`` is the worker process (its shard on the ordinary runtime,
answering over a Unix socket); ``shard`` is the jump hash behind ``--shard i/n`` and the split;
``gzipjoin`` joins the workers' gzip pieces into one body without recompressing.  The top of
the app: may import ``agent.registry``, ``agent.run``, ``agent.exposition``, ``agent.http``,
``agent.limits``, ``agent.logs`` and ``domain/``.
"""
