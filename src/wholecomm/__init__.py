"""Analysis library of the Whole-COMM research companion.

Modules: ``paths`` (where things are), ``data`` (validated loading, provenance,
disclosure control), ``twin`` (the synthetic twin), ``book`` (page helpers for the
notebooks: provenance notice, glue with recorded results, downloadable tables, figures).
"""

__version__ = "0.1.0"
