"""simcenter: discrete-event simulation of township convenience service centres.

The Python API (simcenter.api): `load_scenario`, `run`, `compare`, `sweep` and `staff`. Importing the
package imports no pandas, SimPy or SciPy; the functions import what they need when called.
"""

from .api import Comparison, Run, compare, load_scenario, run, staff, sweep

__version__ = "0.1.0"

__all__ = ["Comparison", "Run", "__version__", "compare", "load_scenario", "run", "staff", "sweep"]
