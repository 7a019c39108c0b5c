"""One lock for loading heavy libraries (spaCy, jieba) on first use.

The action server warms them up in a background thread while requests may need them at the same
moment; concurrent first imports of spaCy's Cython modules from two threads half-initialise them
(KeyError 'spacy', "cannot import name util"). Everything that loads them takes this lock.
"""

import threading

HEAVY_LOAD_LOCK = threading.RLock()
