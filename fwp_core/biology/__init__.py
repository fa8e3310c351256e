r"""Small neuroscience simulations built on the same update rules as the rest of ``fwp_core``.

Every function here is pure: parameters in, one frozen dataclass of numpy arrays and numbers out.
Wherever a simulation *is* one of the registered rules it calls ``make_rule(...).run`` or
``make_rule(...).step`` instead of re-implementing it, so the biology page shows the very code the
other pages run. Nothing here imports Streamlit or Plotly. One module per simulation:

=========================  ====================  ============================================  =======================
function                   module                biology                                       FWP counterpart
=========================  ====================  ============================================  =======================
``three_factor``           ``eligibility``       eligibility trace gated by a neuromodulator:  two fast weights: the
                                                 E_t = λE_{t−1} + v_t k_tᵀ, W_t = W_{t−1} +    trace (``decay``) and W,
                                                 M_t E_t                                       M_t gating E into W
``oja_pca``                ``oja``               Oja's rule finds the top principal component  the ``oja`` rule
``short_term_plasticity``  ``stp``               Tsodyks–Markram facilitation and depression   ``decay`` / ``gated``
``btsp_place_field``       ``btsp``              one plateau writes a place field in one lap   ``delta`` (one shot),
                                                                                               ``hebbian`` (many laps)
``kv_retrieval``           ``kv``                forgetting as retrieval failure               keys, values, queries
``biology_map``            ``mapping``           the mapping table and the open questions      every FWP quantity
                                                 (rows, with sources, in ``mapping_table``)
=========================  ====================  ============================================  =======================

Arrays in the results are float64 numpy arrays marked read-only; a page only reads them.
"""

from __future__ import annotations

from .btsp import BTSPResult, btsp_place_field
from .eligibility import GAP_TOLERANCE, ThreeFactorResult, equivalent_beta, three_factor
from .kv import KVRetrievalResult, kv_retrieval
from .mapping import STATUSES, BioLink, BiologyMap, OpenQuestion, Source, biology_map
from .oja import OjaResult, oja_fixed_points, oja_pca
from .stp import STPResult, short_term_plasticity

__all__ = [
    "BTSPResult", "BioLink", "BiologyMap", "GAP_TOLERANCE", "KVRetrievalResult", "OjaResult", "OpenQuestion",
    "SIMULATIONS", "STATUSES", "STPResult", "Source", "ThreeFactorResult", "biology_map", "btsp_place_field",
    "equivalent_beta", "kv_retrieval", "oja_fixed_points", "oja_pca", "short_term_plasticity", "three_factor",
]

SIMULATIONS = (three_factor, oja_pca, short_term_plasticity, btsp_place_field, kv_retrieval)
"""Every simulation of the Biology page, each runnable with its defaults."""
