"""The model-collapse simulation against its closed forms, and the command around it.

Tolerances are Monte Carlo ones: a simulated mean must sit within 4 standard errors of its
exact expectation at every generation (the SE estimated from the simulated values, as a
reader of the output would), plus a loose bound on the relative error. Every expected
value below is computed independently of the code under test where it can be (special
functions from math.lgamma, fixed points by solving the linear system, Euler's product).
"""

from __future__ import annotations

import json
import math
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from synthdsl.analysis.collapse import (
    LINREG_SCENARIOS,
    SCENARIOS,
    GaussianResult,
    GaussianSettings,
    LinregSettings,
    MixtureResult,
    MixtureSettings,
    ZipfSettings,
    collapse_table,
    gaussian_closed_form_var,
    log_variance_drift,
    simulate_gaussian,
    simulate_linreg,
    simulate_mixture,
    simulate_zipf,
    table_generations,
    write_plot,
)
from synthdsl.analysis.collapse.em import em_fit, sample_mixture, segment_init
from synthdsl.analysis.collapse.special import digamma_half, norm_sf, trigamma_half
from synthdsl.cli.simulate import main

SVG_NS = "{http://www.w3.org/2000/svg}"

# ------------------------------------------------------------------ special functions


def _digamma_numeric(x: float, h: float = 1e-5) -> float:
    return (math.lgamma(x + h) - math.lgamma(x - h)) / (2 * h)


def _trigamma_series(x: float, terms: int = 2000) -> float:
    """ψ′(x) = Σ_k 1/(x+k)², summed directly, plus the Euler–Maclaurin tail."""
    head = sum(1.0 / (x + k) ** 2 for k in range(terms))
    y = x + terms
    return head + 1 / y + 1 / (2 * y * y) + 1 / (6 * y**3)


def test_digamma_and_trigamma_at_half_integers() -> None:
    gamma = 0.5772156649015329
    assert digamma_half(2) == pytest.approx(-gamma, abs=1e-15)
    assert digamma_half(1) == pytest.approx(-gamma - 2 * math.log(2), abs=1e-15)
    assert digamma_half(3) == pytest.approx(2 - gamma - 2 * math.log(2), abs=1e-14)
    assert trigamma_half(2) == pytest.approx(math.pi**2 / 6, abs=1e-15)
    assert trigamma_half(3) == pytest.approx(math.pi**2 / 2 - 4, abs=1e-14)
    for m in [1, 2, 5, 19, 20, 99, 199, 400]:
        assert digamma_half(m) == pytest.approx(_digamma_numeric(m / 2), abs=1e-7)
        assert trigamma_half(m) == pytest.approx(_trigamma_series(m / 2), rel=1e-10)
    with pytest.raises(ValueError):
        digamma_half(0)


def test_log_variance_drift_matches_monte_carlo_and_first_order() -> None:
    # c = E[log(chi2_{N-1} / D)]: check against a direct Monte Carlo estimate.
    rng = np.random.default_rng(7)
    for n, est, d in [(5, "mle", 5), (20, "mle", 20), (20, "unbiased", 19)]:
        x = np.log(rng.chisquare(n - 1, size=400_000) / d)
        se = x.std() / math.sqrt(x.size)
        assert abs(x.mean() - log_variance_drift(n, est)) < 4 * se  # type: ignore[arg-type]
    # first order in 1/N: about -2/N (MLE) and -1/N (unbiased)
    assert log_variance_drift(1000, "mle") == pytest.approx(-2 / 1000, rel=2e-3)
    assert log_variance_drift(1000, "unbiased") == pytest.approx(-1 / 1000, rel=2e-3)


def test_norm_sf_matches_math_erfc() -> None:
    z = np.linspace(-8, 8, 321)
    got = norm_sf(z)
    want = np.array([0.5 * math.erfc(v / math.sqrt(2)) for v in z])
    assert np.all(np.abs(got / want - 1) < 2e-7)


# ------------------------------------------------------------------ Gaussian


def test_mle_mean_variance_matches_closed_form() -> None:
    """E[σ_n²] = σ0²((N−1)/N)^n with the MLE, within 4 Monte Carlo SEs at every n."""
    r = simulate_gaussian(GaussianSettings(samples=20, generations=30, trials=4000, seed=0))
    cf = 2.5**2 * ((19 / 20) ** np.arange(31)) / 2.5**2  # σ0 = 1 here
    assert np.allclose(r.closed_form_var, cf, rtol=1e-12)
    err = np.abs(r.mean_var[1:] - cf[1:])
    assert np.all(err < 4 * r.var_se[1:]), (err / r.var_se[1:]).max()
    assert np.all(np.abs(r.ratio[1:] - 1) < 0.25)
    # the exact SE (closed-form E[σ⁴]) agrees with the sample SE within a factor 2 here
    assert r.closed_form_var_sd is not None
    exact_se = r.closed_form_var_sd[1:] / math.sqrt(4000)
    assert np.all((r.var_se[1:] / exact_se > 0.5) & (r.var_se[1:] / exact_se < 2))
    # power: the unbiased closed form (flat σ0²) is many SEs away by n = 30
    assert (1.0 - r.mean_var[30]) / r.var_se[30] > 20


def test_unbiased_variance_is_a_martingale_yet_collapses() -> None:
    r = simulate_gaussian(
        GaussianSettings(samples=20, generations=30, trials=4000, estimator="unbiased", seed=1)
    )
    assert np.all(r.closed_form_var == 1.0)
    assert np.all(np.abs(r.mean_var[1:] - 1.0) < 4 * r.var_se[1:])
    # ... while the geometric mean follows exp(n·c/2) with c < 0
    assert r.closed_form_geo_sigma is not None
    assert r.closed_form_geo_sigma[30] < 0.8
    z, rel, _ = r.worst_log_z()
    assert z < 4 and rel < 0.05
    long = simulate_gaussian(
        GaussianSettings(samples=20, generations=100, trials=1000, estimator="unbiased", seed=1)
    )
    assert long.median_sigma[100] < 0.25  # E[σ²] is still σ0² = 1 here


def test_log_variance_matches_exact_drift_and_median_collapses() -> None:
    """E[log σ_n²] = n·c exactly; median σ falls far below σ0 by generation 100 (N = 20)."""
    r = simulate_gaussian(GaussianSettings(samples=20, generations=100, trials=4000, seed=2))
    c = log_variance_drift(20, "mle")
    mean_log_var = 2 * np.log(r.geo_mean_sigma)
    err = np.abs(mean_log_var[1:] - c * np.arange(1, 101))
    assert np.all(err < 4 * r.log_var_se[1:])
    assert r.median_sigma[100] < 0.05  # exp(100·c/2) ≈ 0.005
    assert r.median_sigma[100] == pytest.approx(math.exp(100 * c / 2), rel=0.35)
    assert r.frac_collapsed[100] > 0.9
    assert r.closed_form_frac_collapsed is not None
    assert np.all(np.abs(r.frac_collapsed - r.closed_form_frac_collapsed) < 0.06)


def _keep_real_fixed_point(n: int, m1: int, d_fit: int) -> float:
    """Solve the stationary (E[σ²], E[(μ−μ0)²]) of the keep-real recursion (σ0 = 1)."""
    m2 = n - m1
    # a·D = (m1 − 1 + m2/N) + a(m2 − 1 + m1/N) + (m1·m2/N)·d
    # d = (m2/N)²·d + (m1 + m2·a)/N²
    a_mat = np.array(
        [
            [d_fit - (m2 - 1 + m1 / n), -m1 * m2 / n],
            [-m2 / n**2, 1 - (m2 / n) ** 2],
        ]
    )
    b = np.array([m1 - 1 + m2 / n, m1 / n**2])
    return float(np.linalg.solve(a_mat, b)[0])


def test_keep_real_fraction_stabilises_variance() -> None:
    s = GaussianSettings(
        samples=20, generations=100, trials=2000, scenario="keep-real", real_fraction=0.1, seed=3
    )
    r = simulate_gaussian(s)
    assert s.real_count == 2
    fixed = _keep_real_fixed_point(20, 2, 20)
    # closed form of the fixed point (docs): 1 − N/(N² − m2² + m2), m2 = N − m1 = 18
    assert fixed == pytest.approx(1 - 20 / (400 - 324 + 18), rel=1e-12)
    assert r.closed_form_var[-1] == pytest.approx(fixed, rel=1e-6)
    assert np.all(np.abs(r.mean_var[1:] - r.closed_form_var[1:]) < 4 * r.var_se[1:])
    assert np.all(np.abs(r.ratio - 1) < 0.1)
    assert 0.5 < r.median_sigma[100] < 1.0
    assert r.frac_collapsed[100] == 0.0
    # with the unbiased estimator the same recursion holds with D = N − 1
    u = gaussian_closed_form_var(
        GaussianSettings(samples=20, generations=400, scenario="keep-real", estimator="unbiased")
    )
    assert u[-1] == pytest.approx(_keep_real_fixed_point(20, 2, 19), rel=1e-6)
    assert u[-1] == pytest.approx(1 + 18 / (400 - 324 - 20), rel=1e-6)


def test_accumulating_data_keeps_variance_near_sigma0() -> None:
    s = GaussianSettings(samples=20, generations=100, trials=2000, scenario="accumulate", seed=4)
    r = simulate_gaussian(s)
    want = np.cumprod([1.0] + [1 - 1 / (20 * j * j) for j in range(1, 101)])
    assert np.allclose(r.closed_form_var, want, rtol=1e-12)
    assert np.all(np.abs(r.mean_var[1:] - want[1:]) < 4 * r.var_se[1:])
    assert 0.85 < r.median_sigma[100] < 1.05
    # Euler's product: Π_j (1 − 1/(N j²)) = sin(π/√N)/(π/√N)
    far = gaussian_closed_form_var(
        GaussianSettings(samples=20, generations=5000, scenario="accumulate")
    )
    x = math.pi / math.sqrt(20)
    assert far[-1] == pytest.approx(math.sin(x) / x, rel=1e-4)


def test_replace_collapses_where_mitigations_do_not() -> None:
    common = {"samples": 20, "generations": 100, "trials": 500, "seed": 5}
    rep = simulate_gaussian(GaussianSettings(**common))  # type: ignore[arg-type]
    keep = simulate_gaussian(GaussianSettings(scenario="keep-real", **common))  # type: ignore[arg-type]
    acc = simulate_gaussian(GaussianSettings(scenario="accumulate", **common))  # type: ignore[arg-type]
    assert rep.median_sigma[100] < 0.1 < 0.5 < keep.median_sigma[100]
    assert acc.median_sigma[100] > 0.85


def test_same_seed_same_numbers() -> None:
    a = simulate_gaussian(GaussianSettings(samples=10, generations=5, trials=50, seed=9))
    b = simulate_gaussian(GaussianSettings(samples=10, generations=5, trials=50, seed=9))
    c = simulate_gaussian(GaussianSettings(samples=10, generations=5, trials=50, seed=10))
    assert np.array_equal(a.mean_var, b.mean_var)
    assert not np.array_equal(a.mean_var, c.mean_var)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"samples": 1},
        {"generations": -1},
        {"trials": 0},
        {"real_fraction": 1.5},
        {"real_fraction": float("nan")},
        {"sigma0": 0.0},
        {"scenario": "forget"},
        {"estimator": "median"},
    ],
)
def test_gaussian_settings_reject_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        GaussianSettings(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weights": (0.5, 0.4)},
        {"weights": (0.5, 0.6), "means": (0.0, 1.0), "sds": (1.0, 1.0)},
        {"means": (5.0, 4.0, 8.0)},
        {"sds": (1.0, 0.0, 1.0)},
        {"samples": 5},
        {"em_iterations": 0},
    ],
)
def test_mixture_settings_reject_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        MixtureSettings(**kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------ mixture


def test_em_recovers_a_well_sampled_mixture_and_keeps_moments() -> None:
    s = MixtureSettings()
    rng = np.random.default_rng(11)
    t = 4
    w0 = np.repeat(np.array(s.weights)[:, None], t, axis=1)
    mu0 = np.repeat(np.array(s.means)[:, None], t, axis=1)
    var0 = np.repeat(np.square(np.array(s.sds))[:, None], t, axis=1)
    x = np.sort(sample_mixture(rng, w0, mu0, var0, 20_000), axis=1)
    # start from equal weights: the fit has to find the rare mode itself
    flat = np.full((3, t), 1 / 3)
    w, mu, var = em_fit(x, None, *segment_init(x, None, flat, 1e-9), 200, 1e-9)
    assert np.allclose(w, w0, atol=0.015)
    assert np.allclose(mu, mu0, atol=0.05)
    assert np.allclose(np.sqrt(var), np.sqrt(var0), atol=0.05)
    # M-step moment matching: the fit has the sample's mean and MLE variance
    w, mu, var = em_fit(x[:, :37], None, w0, mu0, var0, 3, 1e-12)
    xm = x[:, :37]
    assert np.allclose((w * mu).sum(0), xm.mean(1), atol=1e-10)
    assert np.allclose((w * (var + mu**2)).sum(0) - (w * mu).sum(0) ** 2, xm.var(1), atol=1e-9)


@pytest.fixture(scope="module")
def mixtures() -> dict[str, MixtureResult]:
    return {
        sc: simulate_mixture(
            MixtureSettings(samples=50, generations=60, trials=200, scenario=sc, seed=0)
        )
        for sc in SCENARIOS
    }


def test_rare_mode_and_tail_vanish_under_replacement(mixtures: dict[str, MixtureResult]) -> None:
    r = mixtures["replace"]
    rare0 = r.original_rare_mass
    assert rare0 == pytest.approx(0.1, abs=0.002)
    assert r.tail_mass_mean[0] == pytest.approx(0.01, rel=1e-6)
    assert r.rare_lost_frac[-1] > 0.5
    assert r.rare_mass_median[-1] < 0.5 * rare0
    assert r.tail_mass_median[-1] < 0.1 * 0.01
    assert r.total_var_median[-1] < 0.7 * r.original_total_var


def test_accumulation_preserves_the_rare_mode(mixtures: dict[str, MixtureResult]) -> None:
    r = mixtures["accumulate"]
    rare0 = r.original_rare_mass
    assert abs(r.rare_mass_mean[-1] - rare0) < 0.015
    assert r.rare_mass_median[-1] > 0.8 * rare0
    assert r.rare_lost_frac[-1] <= 0.05
    assert r.tail_mass_median[-1] > 0.25 * 0.01
    assert r.clipped < 10


def test_keeping_real_data_mostly_keeps_the_rare_mode(mixtures: dict[str, MixtureResult]) -> None:
    keep, rep = mixtures["keep-real"], mixtures["replace"]
    assert keep.rare_lost_frac[-1] < min(0.2, rep.rare_lost_frac[-1] / 3)
    assert keep.rare_mass_median[-1] > 0.6 * keep.original_rare_mass


def test_mixture_total_variance_matches_gaussian_closed_form(
    mixtures: dict[str, MixtureResult],
) -> None:
    for sc in ("replace", "keep-real", "accumulate"):
        r = mixtures[sc]
        z = np.abs(r.total_var_mean[1:] - r.closed_form_total_var[1:]) / r.total_var_se[1:]
        assert np.all(z < 4), (sc, z.max())
    rep = mixtures["replace"]
    assert rep.closed_form_total_var[60] / rep.original_total_var == pytest.approx(0.98**60)


# ------------------------------------------------------------------ table and plot


def test_table_generations() -> None:
    assert table_generations(200) == [0, 1, 2, 5, 10, 20, 50, 100, 200]
    assert table_generations(7) == [0, 1, 2, 5, 7]
    assert table_generations(1000) == [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    assert table_generations(0) == [0]


def test_collapse_table_lists_every_scenario(mixtures: dict[str, MixtureResult]) -> None:
    gauss = [
        simulate_gaussian(
            GaussianSettings(samples=20, generations=60, trials=100, scenario=sc, seed=0)
        )
        for sc in SCENARIOS
    ]
    text = collapse_table([*gauss, *mixtures.values()])
    for label in ("replace", "keep 10% real", "accumulate", "Rare mode", "Closed-form check"):
        assert label in text
    rows = [ln for ln in text.splitlines() if ln[:5].strip().isdigit() and "│" in ln]
    assert [int(ln[:5]) for ln in rows] == table_generations(60) * 3
    assert "mean σ² within" in text
    with pytest.raises(ValueError):
        collapse_table([])


def _check_svg(root: ET.Element, n_points: int) -> None:
    assert root.tag == f"{SVG_NS}svg"
    width = float(root.attrib["width"])
    height = float(root.attrib["height"])
    lines = root.findall(f"{SVG_NS}polyline")
    # Gaussian: 3 scenarios × (mean, median, closed form); mixture: 3 × (mean, median)
    # + the original-mass reference; lost share: 3
    assert len(lines) == 9 + 7 + 3
    for pl in lines:
        pts = [tuple(map(float, p.split(","))) for p in pl.attrib["points"].split()]
        assert len(pts) == n_points
        assert all(0 <= x <= width and 0 <= y <= height for x, y in pts)
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]
    assert texts.count("generation") == 3
    for label in ("replace", "keep 10% real", "accumulate", "median", "mean over trials"):
        assert label in texts
    assert any("log scale" in t for t in texts)


def test_plot_svg_and_html(tmp_path: Path, mixtures: dict[str, MixtureResult]) -> None:
    gauss = [
        simulate_gaussian(
            GaussianSettings(samples=20, generations=60, trials=100, scenario=sc, seed=0)
        )
        for sc in SCENARIOS
    ]
    results: list[GaussianResult | MixtureResult] = [*gauss, *mixtures.values()]
    svg = write_plot(results, tmp_path / "c.svg")
    _check_svg(ET.parse(svg).getroot(), 61)
    page = write_plot(results, tmp_path / "c.html").read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    start, end = page.index("<svg"), page.index("</svg>") + len("</svg>")
    _check_svg(ET.fromstring(page[start:end]), 61)
    with pytest.raises(ValueError):
        write_plot([], tmp_path / "none.svg")


# ------------------------------------------------------------------ command


SMALL = [
    "simulate",
    "collapse",
    "--samples",
    "40",
    "--generations",
    "30",
    "--trials",
    "300",
    "--mixture-trials",
    "40",
    "--linreg-trials",
    "100",
    "--zipf-vocab",
    "200",
    "--zipf-tokens",
    "500",
    "--zipf-trials",
    "10",
]


def test_command_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plot = tmp_path / "collapse.svg"
    t0 = time.perf_counter()
    assert main([*SMALL, "--plot", str(plot)]) == 0
    assert time.perf_counter() - t0 < 10
    out = capsys.readouterr().out
    assert "keep 10% real" in out and "accumulate" in out
    assert "mean σ² within" in out and "σ0²((N−1)/N)^n" in out
    assert "estimator: mle (--estimator unbiased for the other)" in out
    assert "Linear regression refit" in out and "Zipf token distribution" in out
    assert "Σ_k 1−(1−p_k)^N" in out
    assert f"plot: {plot}" in out
    ET.parse(plot)


def test_command_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*SMALL, "--format", "json", "--plot", str(tmp_path / "c.html")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [g["scenario"] for g in doc["gaussian"]] == ["replace", "keep-real", "accumulate"]
    assert [m["scenario"] for m in doc["mixture"]] == ["replace", "keep-real", "accumulate"]
    assert [m["scenario"] for m in doc["linreg"]] == ["replace", "accumulate"]
    assert [m["scenario"] for m in doc["zipf"]] == ["replace", "keep-real", "accumulate"]
    assert doc["linreg"][0]["settings"]["dim"] == 10
    assert len(doc["zipf"][1]["support_mean"]) == 31
    assert doc["zipf"][1]["settings"]["real_count"] == 50
    assert len(doc["gaussian"][0]["mean_var"]) == 31
    assert doc["gaussian"][1]["settings"]["real_count"] == 4
    assert len(doc["closed_form_check"]) == 6 + 2 + 3
    assert doc["plot"].endswith("c.html")


def test_command_defaults_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from synthdsl.cli.simulate import add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["simulate", "collapse"])
    assert (args.samples, args.generations, args.trials) == (100, 200, 1000)
    assert (args.real_fraction, args.plot, args.format) == (0.1, "collapse.svg", "text")
    assert main([*SMALL, "--real-fraction", "1.5", "--no-plot"]) == 2
    assert "real_fraction must be in [0, 1]" in capsys.readouterr().err
    assert main([*SMALL, "--plot", "/nonexistent-dir/x.svg"]) == 1
    assert "cannot write the plot" in capsys.readouterr().err


def test_command_selects_models_and_estimator(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*SMALL, "--no-plot", "--model", "linreg", "--model", "zipf"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Linear regression refit" in out and "Zipf token distribution" in out
    assert "Gaussian refit" not in out and "Rare mode" not in out
    flat = " ".join(out.split())
    assert "linear regression, accumulate: mean test error within" in flat
    assert "the bound σ²d/(T−d−1)·Σ1/i²" in flat
    assert main([*SMALL, "--no-plot", "--model", "gaussian", "--estimator", "unbiased"]) == 0
    out = capsys.readouterr().out
    assert "σ² by unbiased (÷(N−1))" in out
    assert "estimator: unbiased (--estimator mle for the other)" in out
    assert "0.9497·σ0² (mle) vs 1.0500·σ0² (unbiased)" not in out  # N = 40 here
    assert "Zipf" not in out
    assert main([*SMALL, "--no-plot", "--model", "linreg", "--linreg-samples", "11"]) == 2
    assert "samples must be >= dim + 2" in capsys.readouterr().err
    assert main([*SMALL, "--no-plot", "--model", "zipf", "--zipf-tail", "1"]) == 2
    assert "tail must be in (0, 1)" in capsys.readouterr().err


def test_plot_has_regression_and_zipf_panels(tmp_path: Path) -> None:
    lin = [
        simulate_linreg(LinregSettings(generations=12, trials=50, scenario=sc, seed=0))
        for sc in LINREG_SCENARIOS
    ]
    zipf = [
        simulate_zipf(
            ZipfSettings(vocab=100, samples=300, generations=12, trials=5, scenario=sc, seed=0)
        )
        for sc in SCENARIOS
    ]
    root = ET.parse(write_plot([*lin, *zipf], tmp_path / "lz.svg")).getroot()
    lines = root.findall(f"{SVG_NS}polyline")
    # regression: 2 × (mean, exact) + the accumulate bound; Zipf: 2 panels × (3 + reference)
    assert len(lines) == 5 + 8
    for pl in lines:
        assert len(pl.attrib["points"].split()) == 13
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]
    assert texts.count("generation") == 3
    assert any("test error" in t for t in texts)
    assert any("support" in t for t in texts) and any("entropy" in t for t in texts)
