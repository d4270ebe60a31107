"""The BI feed: long, tidy tables of the portfolio for Power BI, Tableau, Metabase and the like.

:mod:`~rollup.feed.dictionary` is the data dictionary — every table and column, its type, what it means
and where it comes from — and the one place the feed's columns are declared (the files, the store's
``feed_*`` tables and ``rollup_*`` views are all built from it). :mod:`~rollup.feed.tables` builds the
tables from the mapped issues, the lint result, the snapshots and the views (pure: frames in, frames
out). ``rollup export`` (:mod:`rollup.jobs.feed`) writes them; ``docs/feed.md`` documents them.

This package imports nothing on import, so the store can read the dictionary without loading the views.
"""
