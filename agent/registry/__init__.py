"""The registry: reading ``xuncha.yml`` and the national system's CSV files into a validated ``Config``.

Owns the loader and its validation (every error naming file, entry and field), the safe
YAML loader (no alias bombs) and the CSV reader and writer (BOMs, GB18030, UTF-16; formula-safe
cells).  Where is a CSV read: ``csvsafe`` and ``config._read_rows``.  Pure apart from reading
the files it is given; may import ``domain/``, ``probes/`` (the wrong-expression dictionary's
parser), ``agent.kinds`` and ``agent.limits`` — nothing that runs.
"""
