"""Beijing time, the time zone of every site we watch, and what counts as a plausible date."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

# Asia/Shanghai has had no daylight saving since 1991: a fixed offset is exact for our dates.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

# Chinese government sites start in the late 1990s (政府上网工程, 1999); an older "date" on a page
# or in a feed is history, not news, and never counts as a publication.
EARLIEST_YEAR = 1995
EARLIEST_TIMESTAMP = datetime(EARLIEST_YEAR, 1, 1, tzinfo=BEIJING).timestamp()
