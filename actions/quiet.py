"""Library deprecation notices a user can do nothing about, kept off the servers' logs.

pkg_resources, setuptools' distutils and TensorFlow print DeprecationWarnings on import even under
PYTHONWARNINGS=ignore (they set their own filters). What they show goes through
`warnings.showwarning`: drop the deprecation kinds raised from installed libraries; any warning
from the project's own code, and any other kind, still shows.
"""

from __future__ import annotations

import warnings

LIBRARY_NOISE = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def quiet_library_deprecations() -> None:
    show = warnings.showwarning
    if getattr(show, "_kam_quiet", False):
        return

    def showwarning(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, LIBRARY_NOISE) and ("site-packages" in filename or "<frozen" in filename):
            return
        show(message, category, filename, lineno, file, line)

    showwarning._kam_quiet = True  # type: ignore[attr-defined]
    warnings.showwarning = showwarning
