"""explorer.run_inputs — what the Explorer feeds a rule — checked against the configuration it comes from, written
out independently (the other Explorer tests reuse it to build expected traces, so it is tested on its own here)."""

from __future__ import annotations

from fwp_core.experiments import explorer

import pytest
import torch

import fwp_core

from fwp_core.registry import resolve_hparams


def cfg_for(rule: str, **kw) -> explorer.ExplorerConfig:
    base = dict(sequence="random", T=10, d_k=6, d_v=5, seed=2, beta=0.7)
    base.update(kw)
    return explorer.ExplorerConfig(rule=rule, hparams=tuple(sorted(resolve_hparams(rule).items())), **base)


def inputs(cfg: explorer.ExplorerConfig) -> tuple[dict, fwp_core.sequences.Episode]:
    ep = explorer.build_episode(cfg)
    return explorer.run_inputs(cfg, ep, fwp_core.make_rule(cfg.rule, **dict(cfg.hparams))), ep


def test_constant_beta_and_the_episode_passed_through_in_float32() -> None:
    got, ep = inputs(cfg_for("hebbian"))
    for name in ("q", "k", "v"):
        assert got[name].dtype == torch.float32
        torch.testing.assert_close(got[name], getattr(ep, name).to(torch.float32))
    torch.testing.assert_close(got["beta"], torch.full((10,), 0.7, dtype=torch.float32))
    assert got["gate"] is None


def test_ramp_and_random_schedules() -> None:
    got, _ = inputs(cfg_for("delta", schedule="ramp"))
    want = torch.tensor([0.7 * t / 10 for t in range(1, 11)], dtype=torch.float32)
    torch.testing.assert_close(got["beta"], want)
    got, _ = inputs(cfg_for("delta", schedule="random"))
    b = got["beta"]
    assert b.shape == (10,) and bool(((b >= 0) & (b <= 0.7)).all()) and len(set(b.tolist())) == 10
    again, _ = inputs(cfg_for("delta", schedule="random"))
    assert torch.equal(again["beta"], b)  # seeded by the configuration


def test_recall_reads_do_not_write() -> None:
    got, ep = inputs(cfg_for("delta", sequence="recall", T=12))
    reads = ep.beta == 0
    assert bool(reads.any()) and bool((got["beta"][reads] == 0).all()) and bool((got["beta"][~reads] == 0.7).all())


def test_substeps_write_the_key_and_a_shifted_copy() -> None:
    got, ep = inputs(cfg_for("delta_product"))
    assert got["k"].shape == (10, 2, 6) and got["beta"].shape == (10, 2)
    torch.testing.assert_close(got["k"][:, 0], ep.k.to(torch.float32))
    torch.testing.assert_close(got["k"][:, 1], torch.roll(ep.k, 1, dims=-1).to(torch.float32))
    torch.testing.assert_close(got["v"][:, 1], torch.roll(ep.v, 1, dims=-1).to(torch.float32))


@pytest.mark.parametrize("rule", [r for r in fwp_core.rule_names() if fwp_core.get_spec(r).gate_kind is not None])
def test_gate_from_the_slider_only_where_no_hyper_parameter_fixes_it(rule: str) -> None:
    got, _ = inputs(cfg_for(rule, gate=0.8))
    spec = fwp_core.get_spec(rule)
    if not spec.needs_gate:
        assert got["gate"] is None  # decay's γ, titans' forget: the rule's own hyper-parameter
    elif spec.gate_kind == "channel":
        d_phi = fwp_core.make_rule(rule).phi.out_dim(6)
        torch.testing.assert_close(got["gate"][0], torch.linspace(0.8, 1.0, d_phi, dtype=torch.float32))
        assert got["gate"].shape == (10, d_phi)
    else:
        torch.testing.assert_close(got["gate"], torch.full((10,), 0.8, dtype=torch.float32))
