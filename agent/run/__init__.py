"""The running agent: the wiring, the scheduler, the latest results and the state that outlives restarts.

``runtime.Agent`` starts the pieces and handles a reload (SIGHUP, ``POST /-/reload``, a file
changing: ``runtime`` and ``reloads``); ``scheduler`` runs every due probe under the per-host
and global bounds; ``results`` keeps the latest result per target and kind; ``state`` is the
SQLite database.  May import ``agent.registry``, ``agent.exposition``, ``agent.http`` (the
server it starts), ``agent.workers.shard``, ``agent.kinds``, ``agent.limits``, ``probes/`` and
``domain/``.
"""
