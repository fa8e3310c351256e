"""fwp_core: fast weight programmers, stepped token by token on CPU or GPU.

The public API (a contract: other code and tests depend on these names)::

    import fwp_core
    fwp_core.rule_names()
    rule = fwp_core.make_rule("delta", feature_map="elu1")
    trace = rule.run(q, k, v, beta=0.5)
    form = rule.parallel(q, k, v, beta=0.5)
    outputs, state = rule.chunked(q, k, v, beta=0.5, chunk_size=64)
"""

from .features import FEATURE_MAPS, NORMALIZATIONS, FeatureMap
from .registry import RULES, HParam, RuleSpec, get_spec, make_rule, rule_names
from .rules.base import Rule
from .rules.softmax import softmax_attention
from .trace import ParallelForm, State, StepRecord, Trace

__all__ = [
    "FEATURE_MAPS", "NORMALIZATIONS", "FeatureMap", "HParam", "ParallelForm", "RULES", "Rule", "RuleSpec",
    "State", "StepRecord", "Trace", "get_spec", "make_rule", "rule_names", "softmax_attention",
]
