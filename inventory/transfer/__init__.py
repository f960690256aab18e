"""Moving a School's register in and out: spreadsheet import and export, and the Uniquip feed.

Import and export share one column layout (``columns.COLUMNS``), so an exported register
re-imports unchanged. An import is planned first (``planning.plan_import``: read, parse, validate,
write nothing), then applied (``applying.apply_import``: every change inside the caller's one
transaction). Confirmed imports run in the background, as jobs of the scheduler: see
``inventory.import_jobs``. Between preview and confirmation the upload waits in ``upload_stash``.

Spreadsheet programs run cells that start with ``=``, ``+``, ``-`` or ``@`` as formulas (CSV
injection), so exports prefix such text with a single quote and imports take that quote off again
(``formula_guard``).
"""
