"""What a Lambda entry point does around its imports (the init phase of a cold start).

Importing pydantic models, Powertools and boto3 allocates a few hundred thousand objects that live as
long as the process, and the cyclic garbage collector traverses them again and again while they are
created: about a tenth of the handlers' import time (`make bench`). Collection is paused during the
imports, and what they built is moved to the collector's permanent generation (`gc.freeze`), so neither
the imports nor the later invocations pay to traverse it: the collection is skipped, not postponed.
Reference counting still frees these objects; only reference cycles among them are never reclaimed,
which for module-level state is what happens anyway.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def startup_imports() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
