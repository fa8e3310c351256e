"""The Compare page's presets: a configuration, a text whose numbers are filled in live from that configuration
(``{quantity}`` placeholders, the lesson quantities of the compare page), and the claims that text makes in
words, checked at the preset's own settings (app/claims.py walks them; tests fail when one stops being true).
No Streamlit here: the page, the lessons and the tests share it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fwp_core.experiments import compare
from fwp_core.registry import resolve_hparams

from .page_tables import COMPARE, compare_values


def slot(rule: str, beta: float = 1.0, schedule: str = "constant", gate: float = 0.9, **hp: Any) -> compare.Slot:
    return compare.Slot(rule=rule, hparams=tuple(sorted(resolve_hparams(rule, **hp).items())), beta=beta, schedule=schedule, gate=gate)


@dataclass(frozen=True)
class Preset:
    title: str
    summary: str  # one qualitative line (the button's tooltip): no numbers, no comparisons
    text: str  # shown while the preset is on screen; {quantity} placeholders are computed at the preset's settings
    cfg: compare.CompareConfig
    t: int | None = None  # the step shown first (None: the last)
    claims: tuple[dict[str, Any], ...] = ()  # checks in the lesson format: what ``text`` states in words


PRESETS: dict[str, Preset] = {
    "overwrite": Preset(
        "Overwrite",
        "Six keys written twice: does the memory keep the old value, the new one, or both?",
        "Six keys are written, then written again with new values. The additive (Hebbian) memory keeps the old and the "
        "new value on top of each other: after the last write its mean recall error is **{recall_1}** (0 is perfect, 1 "
        "what an empty memory returns). The delta rule first reads what the key holds and replaces it: its newest pair "
        "reads back with error **{recall_new_2}** and its mean is **{recall_2}**, the rest being crosstalk. (The "
        "retrieval error at t is measured against the *new* value before it is written: the delta rule, which still "
        "holds the old value, scores **{retrieval_2}** there against the additive **{retrieval_1}** — the recall "
        "chart below is what shows the overwrite.)",
        compare.CompareConfig(slots=(slot("hebbian"), slot("delta")), sequence="overwrite", T=12, d_k=16, d_v=8),
        claims=({"quantity": "recall_new_2", "below": 1e-4}, {"quantity": "recall_2", "below": "recall_1"},
                {"quantity": "recall_1", "above": 0.5}),
    ),
    "long_recall": Preset(
        "Long recall",
        "More pairs than dimensions: how forgetting and correcting fail differently.",
        "64 pairs go into a 16-dimensional memory, then earlier keys are queried; shown right after the last write "
        "(t = 64). No fixed-size memory recalls well here. Decay (γ = 0.95) keeps about 1/(1 − γ) = 20 recent pairs in "
        "play, more than d_k = 16, so it does not forget cleanly: its oldest quarter of pairs reads back with error "
        "**{recall_old_1}** (1 is an empty memory) — crosstalk, not silence. The delta rule's oldest pairs are worse "
        "(**{recall_old_2}**), corrupted by crosstalk. The gated delta rule, which decays and corrects, recalls its newest "
        "quarter best: **{recall_new_3}**, against **{recall_new_2}** for delta and **{recall_new_1}** for decay. Softmax "
        "attention keeps every pair in its growing cache (**{recall_4}**). Step on through the reads and watch the "
        "decaying memories keep fading while they are queried.",
        compare.CompareConfig(slots=(slot("decay", gamma=0.95), slot("delta"), slot("gated_delta", gate=0.95)),
                          sequence="recall", T=128, d_k=16, d_v=16, softmax=True),
        t=64,
        claims=({"quantity": "recall_old_1", "above": 1.0}, {"quantity": "recall_old_2", "above": "recall_old_1"},
                {"quantity": "recall_new_3", "below": "recall_new_2"}, {"quantity": "recall_new_3", "below": "recall_new_1"},
                {"quantity": "recall_4", "below": 0.1}),
    ),
    "beta_range": Preset(
        "β up to 1 vs 2",
        "The same delta rule with write strengths up to 1 and up to 2.",
        "The same delta rule with random write strengths β_t ~ U(0, 1) and U(0, 2) (the same draws, doubled). With unit "
        "keys the step's transition I − β k kᵀ has eigenvalues 1 and 1 − β: β < 1 keeps them in (0, 1] (smallest here "
        "**{min_eig_1}**), β up to 2 reaches (−1, 1) (smallest here **{min_eig_2}**), so writes can flip part of the "
        "memory — what lets a trained programmer track parity — at the price of overshooting writes on this random "
        "sequence: mean recall error **{recall_2}** against **{recall_1}**.",
        compare.CompareConfig(slots=(slot("delta", beta=1.0, schedule="random"), slot("delta", beta=2.0, schedule="random")),
                          sequence="random", T=32, d_k=8, d_v=8),
        claims=({"quantity": "min_eig_1", "above": 0.0}, {"quantity": "min_eig_2", "below": 0.0},
                {"quantity": "recall_2", "above": "recall_1"}),
    ),
    "local_objective": Preset(
        "Overshoot",
        "Two steps on the same local objective at a large β: explicit and implicit.",
        "Both rules write with β = 2.5 and unit keys, and both step on the same local objective, the fit of the new "
        "pair ℓ_t(W) = ½‖Wφ(k_t) − v_t‖² (the table under the weights shows it before and after each write). The delta "
        "rule takes an explicit gradient step: it multiplies the pair's error v_t − Wφ(k_t) by 1 − β = −1.5, so its "
        "write raises its own objective — at t = **{cmp_step}** from **{local_before_1}** to **{local_after_1}** "
        "(×**{local_ratio_1}** = (1 − β)²), and so on **{local_ups_1}** of its **{cmp_step}** writes; its memory grows to "
        "‖W_t‖ = **{weights_norm_1}**. Longhorn takes the implicit step, the gradient at the new memory (step size "
        "β/(1 + β‖φ(k)‖²)): it divides the error by 1 + β, so ℓ_t falls from **{local_before_2}** to "
        "**{local_after_2}** (×**{local_ratio_2}** = 1/(1 + β)²), it rises on **{local_ups_2}** of its "
        "writes — never, at any β — and its memory stays at ‖W_t‖ = **{weights_norm_2}**. (The delta rule lowers ℓ_t for "
        "β < 2, overshooting past the fit above 1, and leaves it unchanged at β = 2.)",
        compare.CompareConfig(slots=(slot("delta", beta=2.5), slot("longhorn", beta=2.5, normalize="l2")),
                          sequence="random", T=32, d_k=8, d_v=8),
        claims=({"quantity": "local_after_1", "above": "local_before_1"},
                {"quantity": "local_ratio_1", "between": (2.2499, 2.2501)},
                {"quantity": "local_up_frac_1", "between": (1.0, 1.0)},
                {"quantity": "local_after_2", "below": "local_before_2"},
                {"quantity": "local_ratio_2", "between": (1 / 3.5**2 - 1e-4, 1 / 3.5**2 + 1e-4)},
                {"quantity": "local_up_frac_2", "between": (0.0, 0.0)},
                {"quantity": "weights_norm_1", "above": "weights_norm_2"}),
    ),
    "ssm_vs_delta": Preset(
        "SSM vs delta",
        "The same scalar decay, with and without the delta rule's correction.",
        "Both memories decay by the same α = 0.95 per token. The first is the gated rule — what a Mamba2 head computes "
        "(its scalar state transition exp(ΔA) is the gate α, see Forms) — and it only adds. The second, the gated delta "
        "rule, reads W k before it writes and stores only the difference: a scalar or diagonal transition cannot do that. "
        "After 16 writes into a 16-dimensional memory (t = 16) the corrected memory recalls its newest quarter of pairs "
        "with error **{recall_new_2}** against **{recall_new_1}**; the price is paid by its oldest quarter, overwritten "
        "more (**{recall_old_2}** against **{recall_old_1}**). Mean over all stored pairs: **{recall_2}** against "
        "**{recall_1}**.",
        compare.CompareConfig(slots=(slot("gated", gate=0.95), slot("gated_delta", gate=0.95)), sequence="recall", T=32,
                          d_k=16, d_v=16),
        t=16,
        claims=({"quantity": "recall_new_2", "below": "recall_new_1"}, {"quantity": "recall_old_2", "above": "recall_old_1"}),
    ),
}


def preset_values(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The page's URL parameters for preset ``name``, and the default of each (to leave defaults out of the URL)."""
    p = PRESETS[name]
    values = compare_values(p.cfg, p.t)
    return values, COMPARE.defaults(values)
