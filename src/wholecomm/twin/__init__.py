"""The synthetic twin: data with the Whole-COMM study's structure, generated from a seed.

Everything it plants is set in ``parameters.yml`` beside this file; the MIPEX-L
catalogue (the book's pilot design) is ``catalogue.yml``. Run ``python -m wholecomm.twin``
(``make data``) to (re)write the synthetic resources of ``data/`` and update their
checksums and provenance in ``data/datapackage.json``.
"""

from .generate import GENERATOR, Twin, generate, load_catalogue, load_parameters, write

__all__ = ["GENERATOR", "Twin", "generate", "load_catalogue", "load_parameters", "write"]
