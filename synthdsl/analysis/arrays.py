"""The numpy array types the analysis packages annotate with (diversity, collapse).

Type aliases only: nothing here computes or raises.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "IntArray", "KeyArray"]

#: Floats: statistics per generation or per record.
FloatArray = npt.NDArray[np.float64]
#: Integers: token ids, counts, lengths, generations.
IntArray = npt.NDArray[np.int64]
#: N-gram keys (packed or hashed to 64 bits).
KeyArray = npt.NDArray[np.uint64]
