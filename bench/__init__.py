"""Kitshare's benchmark: a synthetic university at full size, measured against the database's floor.

``bench.generate`` builds the university (Schools, people, assets through the models; years of
bookings by bulk insert) on PostgreSQL and SQLite; ``bench.floor`` holds the hand-written SQL each
figure is compared with; ``bench.run`` measures, prints the table and writes it to bench/results/.
``make bench`` runs the full size, ``make bench-quick`` a small one. See bench/README.md.
"""
