"""The live quantities of each page: its context (what fwp_core computes for the page's URL state, through the pages'
own cached functions), the quantities read from that context (registered at import), ``evaluate``, and the values
a step quotes, claims and expects."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

import fwp_core
from fwp_core import metrics
from fwp_core.experiments import capacity, compare, explorer
from fwp_core.experiments import forms as forms_exp

from .. import cache
from ..page_tables import CAPACITY, COMPARE, EXPLORER, FORMS, LANGUAGE, CapacitySettings
from .quantities import QUANTITIES, placeholder_names, quantity

if TYPE_CHECKING:
    from .format import Step


# ---------------------------------------------------------------------------------------------- explorer
def explorer_config(params: Mapping[str, Any]) -> explorer.ExplorerConfig:
    """The ExplorerConfig the Explorer builds for these URL values (the same call, so the page reuses the cache entry)."""
    return EXPLORER.config(params)


@dataclass
class ExplorerCtx:
    res: explorer.ExplorerResult
    t: int

    @property
    def i(self) -> int:
        return self.t - 1

    def key(self) -> np.ndarray:
        tr = self.res.trace
        return tr.token_keys[self.i].numpy().astype(float)

    def value(self) -> np.ndarray:
        tr = self.res.trace
        return tr.token_values[self.i].numpy().astype(float)

    def read(self, keys: np.ndarray) -> np.ndarray:
        """The rule's own read (``fwp_core.Rule.read``) of the memory after step t, in float64: featured keys
        (n, d_phi) -> (n, d_v)."""
        rule = fwp_core.make_rule(self.res.cfg.rule, **dict(self.res.cfg.hparams))
        states = rule.read_states(self.res.trace)
        state = {name: x[self.i].to(torch.float64) for name, x in states.items()}
        with torch.no_grad():
            return rule.read(state, torch.from_numpy(np.asarray(keys, dtype=float))).numpy()

    def local(self) -> explorer.LocalLosses:
        """ℓ_t before and after every write (``ExplorerResult.local``); ValueError where the rule names no objective."""
        if self.res.local is None:
            raise ValueError(f"rule {self.res.cfg.rule!r} names no local objective")
        return self.res.local

    def eig(self) -> np.ndarray:
        ev = explorer.eigenvalues_at(self.res, self.t)
        return np.array([np.nan]) if ev is None else ev


def _explorer_ctx(params: Mapping[str, Any]) -> ExplorerCtx:
    res = cache.explorer_result(explorer_config(params))
    t = min(max(EXPLORER.values(params)["t"], 1), max(res.valid, 1))
    return ExplorerCtx(res, t)


E = "explorer"
quantity("retrieval_error", E, "retrieval error ‖v_t − r_t‖ (r_t: the rule's read before the write)")(lambda c: float(c.res.trace.retrieval_error[c.i]))
quantity("retrieved_norm", E, "‖r_t‖, the read before the write (W_{t−1}φ(k_t); linear_attention: normalised)")(lambda c: float(np.linalg.norm(c.res.trace.retrieved[c.i].numpy())))
quantity("value_norm", E, "‖v_t‖")(lambda c: float(np.linalg.norm(c.value())))
quantity("key_norm", E, "‖φ(k_t)‖")(lambda c: float(np.linalg.norm(c.key())))
quantity("beta_now", E, "β_t")(lambda c: float(c.res.trace.beta[c.i].reshape(-1)[0]))
quantity("weights_norm", E, "‖W_t‖_F")(lambda c: float(np.linalg.norm(c.res.trace.weights[c.t].numpy())))
quantity("update_rank", E, "rank of the update W_t − W_{t−1}")(
    lambda c: float(np.linalg.matrix_rank((c.res.trace.weights[c.t] - c.res.trace.weights[c.t - 1]).numpy().astype(float), tol=1e-6)))
quantity("eig_min", E, "smallest eigenvalue (real part) of step t's transition")(lambda c: float(np.min(c.eig().real)))
quantity("eig_max_abs", E, "largest |eigenvalue| of step t's transition")(lambda c: float(np.max(np.abs(c.eig()))))
quantity("step_now", E, "the step t")(lambda c: float(c.t))
quantity("steps_total", E, "T")(lambda c: float(c.res.T))
quantity("diverged_step", E, "the step where the run blew up (0: never)")(lambda c: float(c.res.trace.diverged_at or 0))
quantity("local_before", E, "the local loss ℓ_t(W_{t−1}) before the write")(lambda c: float(c.local().before[c.i]))
quantity("local_after", E, "the local loss ℓ_t(W_t) after the write")(lambda c: float(c.local().after[c.i]))
quantity("mean_retrieval_error", E, "mean retrieval error over all steps")(
    lambda c: float(np.mean(c.res.trace.retrieval_error[: c.res.valid].numpy())))


@quantity("stored_error", E, "relative error of the pair written at t, read from the memory after step t")
def _stored_error(c: ExplorerCtx) -> float:
    v = c.value()
    return float(np.linalg.norm(v - c.read(c.key()[None])[0]) / max(np.linalg.norm(v), 1e-12))


@quantity("parallel_diff", E, "max |y_t recurrent − y_t parallel|")
def _parallel_diff(c: ExplorerCtx) -> float:
    if c.res.parallel_outputs is None:
        return float("nan")
    return float(np.abs(c.res.trace.outputs[c.i].numpy() - c.res.parallel_outputs[c.i]).max())


@quantity("key_overlap_max", E, "largest |φ(k_t)·φ(k_s)| over the earlier keys s < t")
def _key_overlap(c: ExplorerCtx) -> float:
    if c.t < 2:
        return 0.0
    K = c.res.trace.keys.reshape(c.res.T, -1, c.res.trace.keys.shape[-1])[: c.t - 1, 0].numpy().astype(float)
    return float(np.abs(K @ c.key()).max())


@quantity("recall_error_final", E, "mean relative recall error of the pairs written so far, read from the memory after step t")
def _recall_final(c: ExplorerCtx) -> float:
    tr = c.res.trace
    K = tr.keys.reshape(c.res.T, -1, tr.keys.shape[-1])[: c.t, 0].numpy().astype(float)
    V = tr.values.reshape(c.res.T, -1, tr.values.shape[-1])[: c.t, 0].numpy().astype(float)
    live = compare.stored_pairs(K, tr.beta.reshape(c.res.T, -1)[: c.t, 0].numpy())[-1]
    err = np.linalg.norm(V[live] - c.read(K[live]), axis=1) / np.maximum(np.linalg.norm(V[live], axis=1), 1e-12)
    return float(err.mean()) if err.size else 0.0


# ---------------------------------------------------------------------------------------------- compare


def compare_config(params: Mapping[str, Any]) -> compare.CompareConfig:
    """The CompareConfig the Compare page builds for these URL values."""
    return COMPARE.config(params)


@dataclass
class CompareCtx:
    res: compare.CompareResult
    t: int

    def run(self, i: int) -> compare.RuleRun:
        if i > len(self.res.runs):
            raise ValueError(f"this comparison has {len(self.res.runs)} runs, not {i}")
        return self.res.runs[i - 1]

    def recall(self, i: int, part: slice = slice(None)) -> float:
        """Mean relative recall error of run i's stored pairs at t (``part``: a slice of them, oldest first)."""
        _, err = compare.recall_at(self.run(i), self.t)
        err = err[part]
        return float(err.mean()) if err.size else 0.0

    def local(self, i: int) -> explorer.LocalLosses:
        """Run i's local objective before and after every write (``cache.local_losses``, the page's own cache)."""
        run = self.run(i)
        cfg = self.res.cfg
        loc = None if i > len(cfg.slots) else cache.local_losses(cfg.explorer_config(cfg.slots[i - 1]))
        if loc is None:
            raise ValueError(f"run {i} ({run.label}) names no local objective")
        return loc

    def weights_norm(self, i: int) -> float:
        """‖W_t‖_F of run i at t (its last finite W where it diverged before t)."""
        run = self.run(i)
        if run.weights is None:
            raise ValueError(f"run {i} ({run.label}) has no fixed-size memory W")
        return float(np.linalg.norm(run.weights[min(self.t, run.valid)]))

    def quarter(self, i: int, newest: bool) -> slice:
        n = len(compare.recall_at(self.run(i), self.t)[1])
        q = max(1, n // 4)
        return slice(n - q, n) if newest else slice(0, q)


def _compare_ctx(params: Mapping[str, Any]) -> CompareCtx:
    res = cache.compare_result(compare_config(params))
    t = COMPARE.values(params)["cmp_t"] if "cmp_t" in params else res.T  # the page opens at the last step
    return CompareCtx(res, min(max(t, 1), res.T))


def _metric(c: CompareCtx, i: int, name: str) -> float:
    v = c.run(i).metrics.get(name)
    return float("nan") if v is None else float(v)


for _i in range(1, 5):
    quantity(f"recall_{_i}", "compare", f"mean recall error of run {_i} at t")(lambda c, i=_i: c.recall(i))
    quantity(f"recall_old_{_i}", "compare", f"mean recall error of run {_i}'s oldest quarter of stored pairs at t")(
        lambda c, i=_i: c.recall(i, c.quarter(i, newest=False)))
    quantity(f"recall_new_{_i}", "compare", f"mean recall error of run {_i}'s newest quarter of stored pairs at t")(
        lambda c, i=_i: c.recall(i, c.quarter(i, newest=True)))
    quantity(f"retrieval_{_i}", "compare", f"retrieval error of run {_i} at t")(lambda c, i=_i: float(c.run(i).retrieval_error[c.t - 1]))
    quantity(f"min_eig_{_i}", "compare", f"min Re λ of run {_i}")(lambda c, i=_i: _metric(c, i, "min Re λ"))
    quantity(f"max_abs_eig_{_i}", "compare", f"max |λ| of run {_i}")(lambda c, i=_i: _metric(c, i, "max |λ|"))
    quantity(f"final_recall_{_i}", "compare", f"final recall error of run {_i}")(
        lambda c, i=_i: _metric(c, i, "final recall error (relative)"))
    quantity(f"local_before_{_i}", "compare", f"run {_i}'s local loss ℓ_t(W_{{t−1}}) before its write at t")(
        lambda c, i=_i: float(c.local(i).before[c.t - 1]))
    quantity(f"local_after_{_i}", "compare", f"run {_i}'s local loss ℓ_t(W_t) after its write at t")(
        lambda c, i=_i: float(c.local(i).after[c.t - 1]))
    quantity(f"local_ratio_{_i}", "compare", f"run {_i}'s ℓ_t(W_t) / ℓ_t(W_{{t−1}}) at t")(
        lambda c, i=_i: float(c.local(i).after[c.t - 1] / c.local(i).before[c.t - 1]))
    quantity(f"local_up_frac_{_i}", "compare", f"the share of run {_i}'s writes up to t that raised their own ℓ")(
        lambda c, i=_i: c.local(i).raised_fraction(c.t))
    quantity(f"local_ups_{_i}", "compare", f"how many of run {_i}'s writes up to t raised their own ℓ")(
        lambda c, i=_i: float(c.local(i).raised()[: c.t].sum()))
    quantity(f"weights_norm_{_i}", "compare", f"‖W_t‖_F of run {_i} (its last finite W where it diverged)")(
        lambda c, i=_i: c.weights_norm(i))
quantity("cmp_step", "compare", "the step t")(lambda c: float(c.t))


# ---------------------------------------------------------------------------------------------- capacity
@dataclass
class CapacityCtx:
    """The Capacity page's experiments at a step's settings (``CAPACITY.config``), through the page's own cached calls."""

    s: CapacitySettings
    curves: dict[str, capacity.Curve] | None = None

    @property
    def d_k(self) -> int:
        return self.s.d_k

    def curve(self, rule: str, n: int) -> float:
        if self.curves is None:  # the same call, with the same arguments, as the Capacity page's (cached)
            seeds = capacity.check_size(self.s.n_max, self.s.d_v, self.d_k, self.s.seeds)
            self.curves = cache.capacity_sweep(self.s.rules, n_max=self.s.n_max, seeds=seeds, **self.s.common())
        if rule not in self.curves:
            raise ValueError(f"the rule {rule} is not among this step's cap_rules")
        c = self.curves[rule]
        return float(c.mean[n - 1]) if n <= len(c.mean) else float("nan")

    def overwrite(self) -> dict[str, np.ndarray]:
        return cache.overwrite_demo(8, 8, self.s.ow_beta, self.s.seed)

    def seeds(self, n: int, d_phi: int, cap: int | None = None) -> int:
        asked = self.s.seeds
        return capacity.check_size(n, self.s.d_v, d_phi, asked if cap is None else min(asked, cap))

    def cosine(self, label: str) -> float:
        """Mean cosine between φ of the sweep's distinct keys for one feature map (the page's feature-map table)."""
        n = 2 * self.d_k
        _, cos = cache.feature_map_sweep(self.s.fm_rule, n_max=n, seeds=self.seeds(n, 6 * self.d_k, capacity.FEATURE_MAP_SEEDS),
                                         **self.s.common())
        return float(cos[label][1])

    def recency(self, rule: str, newest: bool) -> float:
        """Mean relative recall error of the newest (or oldest) quarter of pairs after cap_rec_mult·d_k writes."""
        n, rules = self.s.recency_n, self.s.recency_rules
        if rule not in rules:
            raise ValueError(f"the rule {rule} is not in this step's recency chart")
        mean = cache.recency(rules, n=n, seeds=self.seeds(n, self.d_k), **self.s.common())[rule][0]  # index 0 = newest
        q = max(1, n // 4)
        return float(np.mean(mean[:q] if newest else mean[-q:]))


def _capacity_ctx(params: Mapping[str, Any]) -> CapacityCtx:
    return CapacityCtx(CAPACITY.config(params))


for _rule in capacity.capacity_rule_names():  # every rule the capacity sweep takes, from the registry
    for _tag, _mult in (("half_dk", 0.5), ("dk", 1), ("2dk", 2), ("4dk", 4)):
        quantity(f"cap_{_rule}_at_{_tag}", "capacity", f"{_rule}'s mean recall error at N = {_mult:g}·d_k")(
            lambda c, r=_rule, m=_mult: c.curve(r, max(1, int(round(m * c.d_k)))))
for _tag, _mult in (("half_dk", 0.5), ("dk", 1), ("2dk", 2), ("4dk", 4)):
    quantity(f"cap_theory_at_{_tag}", "capacity", f"the theory √((N−1)/d_k) at N = {_mult:g}·d_k")(
        lambda c, m=_mult: float(metrics.additive_theory(np.array([max(1, int(round(m * c.d_k)))]), c.d_k)[0]))
quantity("cap_key_dim", "capacity", "d_k")(lambda c: float(c.d_k))
for _label, _tag in (("identity", "identity"), ("elu+1", "elu1"), ("relu", "relu"), ("DPFP ν=1", "dpfp1"), ("DPFP ν=3", "dpfp3")):
    quantity(f"cap_cos_{_tag}", "capacity", f"mean cosine between φ of distinct keys, φ = {_label}")(
        lambda c, lb=_label: c.cosine(lb))
for _rule in capacity.capacity_rule_names():
    for _end, _newest in (("newest", True), ("oldest", False)):
        quantity(f"cap_{_rule}_{_end}", "capacity", f"{_rule}'s mean recall error of the {_end} quarter of pairs (by age)")(
            lambda c, r=_rule, nw=_newest: c.recency(r, nw))
quantity("overwrite_additive_err", "capacity", "‖additive read − (v₁ + v₂)‖")(
    lambda c: float(np.linalg.norm(c.overwrite()["additive read"] - c.overwrite()["v1+v2"])))
quantity("overwrite_additive_vs_v2", "capacity", "‖additive read − v₂‖")(
    lambda c: float(np.linalg.norm(c.overwrite()["additive read"] - c.overwrite()["v2"])))
quantity("overwrite_delta_err", "capacity", "‖delta read − v₂‖")(
    lambda c: float(np.linalg.norm(c.overwrite()["delta read"] - c.overwrite()["v2"])))


# ---------------------------------------------------------------------------------------------- forms
def _forms_ctx(params: Mapping[str, Any]) -> forms_exp.FormsResult:
    return cache.forms_result(**FORMS.config(params).run_args())


quantity("forms_rec_vs_par", "forms", "max |recurrent − parallel|")(lambda r: r.diffs["recurrent vs parallel"])
quantity("forms_rec_vs_chunk", "forms", "max |recurrent − chunked|")(lambda r: r.diffs["recurrent vs chunked"])
quantity("forms_rec_vs_ssm", "forms", "max |recurrent − SSM scan| (where the rule is a Mamba2 head)")(
    lambda r: r.diffs.get("recurrent vs ssm", float("nan")))
quantity("forms_worst_chunk", "forms", "the largest max |chunked(C) − recurrent| over every C")(lambda r: float(np.max(r.chunk_diffs)))
quantity("forms_chunk_size", "forms", "the chunk size C")(lambda r: float(r.chunk_size))
quantity("forms_steps", "forms", "T")(lambda r: float(r.T))
quantity("forms_pseudo_gap", "forms", "max |U − V| (pseudo-values against values)")(
    lambda r: float(np.abs(r.values["pseudo-values U"] - r.values["values V"]).max()) if "pseudo-values U" in r.values else 0.0)

# ---------------------------------------------------------------------------------------------- language
@dataclass
class LanguageCtx:
    """The Language page's shipped models (the page shows them on arrival) and its sentence at character t."""

    sentence: str
    t: int

    def model(self, rule: str) -> Any:
        from fwp_core.language import pretrain

        m = pretrain.shipped(rule)
        if m is None:
            raise ValueError(f"no {rule} language model is shipped")
        return m

    def record(self, rule: str) -> dict[str, Any]:
        from fwp_core.language import pretrain

        self.model(rule)
        return pretrain.manifest()[f"{rule}.pt"]

    def p_next(self, rule: str) -> float:
        """The model's probability of the character that comes after character t of the sentence."""
        from fwp_core import language as lm

        chars = lm.normalize_text(self.sentence)
        t = min(self.t, len(chars) - 1)
        rd = lm.read(self.model(rule), chars)
        return float(rd.probs[t - 1, lm.VOCAB.index(chars[t])])


def _language_ctx(params: Mapping[str, Any]) -> LanguageCtx:
    v = LANGUAGE.values(params)
    return LanguageCtx(v["lang_text"], v["lang_t"])


def _bigram(c: LanguageCtx) -> float:
    from fwp_core.language import pretrain

    return float(pretrain.manifest_info()["bigram_entropy"])


quantity("lang_bigram", "language", "the bigram entropy of the held-out text (bits per character)")(_bigram)
for _rule in ("softmax", "linear_attention", "delta", "gated_delta"):  # the shipped models (fwp_core.language.pretrain)
    quantity(f"lang_bpc_{_rule}", "language", f"{_rule}'s held-out bits per character")(
        lambda c, r=_rule: float(c.record(r)["val_bpc"]))
    quantity(f"lang_first_{_rule}", "language", f"{_rule}: bits per character on a word's first occurrence")(
        lambda c, r=_rule: float(c.record(r)["copy_gain"]["first"]))
    quantity(f"lang_second_{_rule}", "language", f"{_rule}: bits per character on its second occurrence")(
        lambda c, r=_rule: float(c.record(r)["copy_gain"]["second"]))
    quantity(f"lang_p_next_{_rule}", "language", f"{_rule}: probability of the next character at t")(
        lambda c, r=_rule: c.p_next(r))

_CONTEXTS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "explorer": _explorer_ctx, "compare": _compare_ctx, "capacity": _capacity_ctx, "forms": _forms_ctx,
    "language": _language_ctx,
}


def evaluate(page: str, params: Mapping[str, Any], names: set[str] | list[str]) -> dict[str, float]:
    """The named quantities for a page's URL state, computed with fwp_core (through the pages' own cached functions)."""
    names = set(names)
    if not names:
        return {}
    ctx = _CONTEXTS[page](params)
    with torch.no_grad():
        return {n: float(QUANTITIES[n].fn(ctx)) for n in sorted(names)}


def step_values(step: Step) -> dict[str, float]:
    return evaluate(step.page, step.params, placeholder_names(step.text))


def try_values(step: Step) -> dict[str, float]:
    if step.try_ is None:
        return {}
    names = set().union(*(c.names() for c in step.try_.expect))
    return evaluate(step.page, step.try_params(), names)


def claim_values(step: Step) -> dict[str, float]:
    names = set().union(*(c.names() for c in step.claims)) if step.claims else set()
    return evaluate(step.page, step.params, names)


def try_holds(step: Step) -> tuple[bool, dict[str, float]]:
    vals = try_values(step)
    return all(c.holds(vals) for c in step.try_.expect) if step.try_ else True, vals
