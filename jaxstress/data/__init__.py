"""Market data for jaxstress: loading and validating bars, synthetic bars, causal features.

Public API: `MarketData`, `prepare`, `default_market`, `synthetic_market`, `load_bars`,
`DataError`; see each for details.
"""

from jaxstress.data.features import FEATURE_NAMES, NUM_FEATURES
from jaxstress.data.loader import REQUIRED_COLUMNS, DataError, load_bars, validate_bars
from jaxstress.data.market import DEFAULT_DRIFT, MarketData, default_market, prepare
from jaxstress.data.synthetic import synthetic_market

__all__ = [
    "DEFAULT_DRIFT",
    "FEATURE_NAMES",
    "NUM_FEATURES",
    "REQUIRED_COLUMNS",
    "DataError",
    "MarketData",
    "default_market",
    "load_bars",
    "prepare",
    "synthetic_market",
    "validate_bars",
]
