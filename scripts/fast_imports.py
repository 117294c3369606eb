"""Import this before nbformat/nbclient/nbconvert in short-lived processes.

jsonschema registers a format checker for every optional package it finds; one of them,
rfc3987_syntax (installed for jupyter_events), compiles a grammar at import time and
costs ~3 s per process. The notebooks' schema uses none of those formats, so these
command-line processes hide the module and jsonschema skips that checker.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)
