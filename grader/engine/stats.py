"""Statistical checks of random exercises, each with a stated false-failure probability.

A random exercise (a sampler, dropout, an initializer, a shuffler) is judged by statistics, never
by bit-exact draws. Every ``expect_*`` here takes ``alpha``: the probability that a CORRECT
implementation fails that one call (at most ``FALSE_FAILURE``). A check that makes several such
calls splits its budget (``split(FALSE_FAILURE, k)`` for ``k`` calls, a union bound), so each check
fails a correct submission with probability at most ``FALSE_FAILURE``. Failures raise
``CheckFailure`` with a message that says what was measured, what was expected and how likely a
correct answer is to land outside.

The ``*_miss_rate`` functions answer the converse for the project's own tests: how likely a given
mistake is to pass one of these checks (state it for each statistical mutant in
``tests/mutants``, so a check's power is known rather than hoped for).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from grader.engine.compare import fail, hinted
from grader.engine.words import say


class _LazyScipyStats:
    """``scipy.stats`` imported on first use (it costs about half a second to import)."""

    def __getattr__(self, name: str):
        from scipy import stats

        return getattr(stats, name)


sps = _LazyScipyStats()

FALSE_FAILURE = 1e-6
"""The most any one check may fail a correct submission (DESIGN.md: ≤ 1e-6)."""

DEFAULT_ALPHA = 1e-7
"""The default budget of one statistic: ten of them fit in one check."""


def split(alpha: float, parts: int) -> float:
    """The budget of each of ``parts`` statistics that together may fail with ``alpha``."""
    return alpha / max(1, parts)


def _budget(alpha: float) -> float:
    if not 0 < alpha <= FALSE_FAILURE:
        raise ValueError(f"a statistic's false-failure probability must be in (0, "
                         f"{FALSE_FAILURE}]; got {alpha}")
    return alpha


def z_score(alpha: float) -> float:
    """The two-sided normal quantile: ``P(|N(0, 1)| > z) = alpha``."""
    return float(sps.norm.isf(alpha / 2))


def _odds(alpha: float) -> str:
    return say("a correct answer lands outside with probability below {alpha:.0e}").format(
        alpha=alpha)


def _values(sample: object) -> np.ndarray:
    if isinstance(sample, torch.Tensor):
        sample = sample.detach().cpu().double().numpy()
    return np.asarray(sample, dtype=np.float64).ravel()


# --- counts ---------------------------------------------------------------------------------------


def binomial_bounds(n: int, p: float, alpha: float = DEFAULT_ALPHA) -> tuple[int, int]:
    """The acceptance interval ``[low, high]`` of a Binomial(n, p) count (exact tails).

    A count drawn from Binomial(n, p) falls below ``low`` or above ``high`` with probability at
    most ``alpha`` (at most ``alpha / 2`` on each side).
    """
    _budget(alpha)
    if p <= 0:
        return 0, 0
    if p >= 1:
        return n, n
    low = int(sps.binom.ppf(alpha / 2, n, p))
    high = int(sps.binom.isf(alpha / 2, n, p))
    return low, high


def expect_count(count: int, n: int, p: float, *, what: str, event: str,
                 alpha: float = DEFAULT_ALPHA, hint: str = "") -> None:
    """Fail unless ``count`` is a plausible number of ``event`` in ``n`` trials of chance ``p``.

    ``event`` completes "… {event} {count} times out of {n}" (e.g. "kept an element"; a
    chapter marks it ``_("...")`` like a hint, and it is translated the same way).
    """
    low, high = binomial_bounds(n, p, alpha)
    if not low <= count <= high:
        expected = (say("between {low} and {high} times") if low < high
                    else say("{low} times")).format(low=low, high=high)
        fail(say("{what} {event} {count} times out of {n}; with probability {p:.4g} it should "
                 "happen {expected} ({odds})").format(
            what=what, event=say(event) if event else event, count=count, n=n, p=p,
            expected=expected, odds=_odds(alpha)) + hinted(hint))


def expect_frequencies(counts: Sequence[int] | torch.Tensor, probs: Sequence[float] | torch.Tensor,
                       *, what: str, alpha: float = DEFAULT_ALPHA, hint: str = "") -> None:
    """Fail unless outcome counts fit a categorical distribution (each outcome's binomial test).

    ``probs`` need not sum to 1 (they are normalised). An outcome of probability 0 must never
    occur. The budget ``alpha`` is shared by the outcomes.
    """
    counts = [int(c) for c in (counts.tolist() if isinstance(counts, torch.Tensor) else counts)]
    weights = _values(probs)
    p = weights / weights.sum()
    n = sum(counts)
    each = split(alpha, len(p))
    shown = [round(float(w), 4) for w in weights]
    for i, (count, pi) in enumerate(zip(counts, p)):
        if pi == 0 and count:
            fail(say("{what} drew outcome {i}, whose weight is 0, {count} times").format(
                what=what, i=i, count=count) + hinted(hint))
        expect_count(count, n, float(pi),
                     what=say("{what} (weights {weights})").format(what=what, weights=shown),
                     event=say("drew outcome {i}").format(i=i), alpha=each, hint=hint)


# --- moments --------------------------------------------------------------------------------------


def mean_tolerance(n: int, sd: float, alpha: float = DEFAULT_ALPHA) -> float:
    """How far the mean of ``n`` draws of standard deviation ``sd`` may stray (normal limit)."""
    return z_score(_budget(alpha)) * sd / math.sqrt(n)


def expect_mean(sample: object, mean: float, sd: float, *, what: str,
                alpha: float = DEFAULT_ALPHA, hint: str = "") -> float:
    """Fail unless the sample's mean is within the normal-limit tolerance of ``mean``.

    ``sd`` is the standard deviation of ONE draw under a correct implementation. Returns the
    sample mean. Needs a few hundred draws or more for the normal limit to hold.
    """
    values = _values(sample)
    got = float(values.mean())
    tolerance = mean_tolerance(len(values), sd, alpha)
    if not abs(got - mean) <= tolerance:
        fail(say("{what} has mean {got:.5g} over {n} draws; expected {mean:.5g} ± "
                 "{tolerance:.2g} ({odds})").format(
            what=what, got=got, n=len(values), mean=mean, tolerance=tolerance,
            odds=_odds(alpha)) + hinted(hint))
    return got


def std_tolerance(n: int, sd: float, alpha: float = DEFAULT_ALPHA,
                  kurtosis: float = 3.0) -> float:
    """How far the sample standard deviation of ``n`` draws may stray from ``sd``.

    From the normal limit of the sample variance, whose standard deviation is
    ``sd² sqrt((kurtosis - 1) / n)`` (``kurtosis`` 3 for normal draws, 1.8 for uniform ones).
    """
    spread = z_score(_budget(alpha)) * sd**2 * math.sqrt((kurtosis - 1) / n)
    return math.sqrt(sd**2 + spread) - sd


def expect_std(sample: object, sd: float, *, what: str, alpha: float = DEFAULT_ALPHA,
               kurtosis: float = 3.0, hint: str = "") -> float:
    """Fail unless the sample's standard deviation is plausibly ``sd``; return it.

    ``kurtosis`` is that of the correct distribution (3 for normal, 1.8 for uniform).
    """
    values = _values(sample)
    n = len(values)
    got = float(values.std(ddof=1))
    spread = z_score(_budget(alpha)) * sd**2 * math.sqrt((kurtosis - 1) / n)
    if not abs(got**2 - sd**2) <= spread:
        low = math.sqrt(max(0.0, sd**2 - spread))
        high = math.sqrt(sd**2 + spread)
        fail(say("{what} has standard deviation {got:.5g} over {n} draws; expected {sd:.5g} "
                 "(between {low:.4g} and {high:.4g}; {odds})").format(
            what=what, got=got, n=n, sd=sd, low=low, high=high, odds=_odds(alpha))
             + hinted(hint))
    return got


# --- whole distributions --------------------------------------------------------------------------


def ks_tolerance(n: int, alpha: float = DEFAULT_ALPHA) -> float:
    """The Dvoretzky–Kiefer–Wolfowitz bound: ``P(sup |F_n - F| > eps) <= alpha`` for any F."""
    return math.sqrt(math.log(2 / _budget(alpha)) / (2 * n))


def ks_distance(sample: object, cdf: Callable[[np.ndarray], np.ndarray]) -> float:
    """The Kolmogorov–Smirnov distance between a sample and a continuous ``cdf``."""
    values = np.sort(_values(sample))
    n = len(values)
    f = np.asarray(cdf(values), dtype=np.float64)
    above = np.arange(1, n + 1) / n - f
    below = f - np.arange(0, n) / n
    return float(max(above.max(), below.max()))


def expect_distribution(sample: object, cdf: Callable[[np.ndarray], np.ndarray], *, what: str,
                        name: str, alpha: float = DEFAULT_ALPHA, hint: str = "") -> None:
    """Fail unless the sample plausibly comes from the continuous distribution ``cdf``.

    A distribution-free bound (DKW), valid for any sample size. ``name`` names the distribution
    in the message (e.g. "U(-0.5, 0.5)"); ``cdf`` maps an array to probabilities, e.g.
    ``scipy.stats.norm(0, 0.1).cdf``.
    """
    distance = ks_distance(sample, cdf)
    tolerance = ks_tolerance(len(_values(sample)), alpha)
    if distance > tolerance:
        fail(say("the values of {what} do not look like draws from {name}: their empirical "
                 "distribution differs from it by {distance:.3f} (at most {tolerance:.3f} "
                 "expected; {odds})").format(
            what=what, name=name, distance=distance, tolerance=tolerance, odds=_odds(alpha))
             + hinted(hint))


# --- miss rates of mistakes -----------------------------------------------------------------------


def binomial_miss_rate(n: int, p: float, p_wrong: float, alpha: float = DEFAULT_ALPHA) -> float:
    """The probability that a count with success probability ``p_wrong`` passes ``expect_count``
    for ``p``: how often that mistake slips through."""
    low, high = binomial_bounds(n, p, alpha)
    return float(sps.binom.cdf(high, n, p_wrong) - sps.binom.cdf(low - 1, n, p_wrong))


def mean_miss_rate(n: int, mean: float, sd: float, wrong_mean: float, wrong_sd: float,
                   alpha: float = DEFAULT_ALPHA) -> float:
    """The probability that ``n`` draws of mean ``wrong_mean`` (sd ``wrong_sd``) pass
    ``expect_mean(…, mean, sd)`` (normal limit)."""
    tolerance = mean_tolerance(n, sd, alpha)
    spread = wrong_sd / math.sqrt(n)
    return float(sps.norm.cdf(mean + tolerance, wrong_mean, spread)
                 - sps.norm.cdf(mean - tolerance, wrong_mean, spread))


def ks_miss_rate(n: int, distance: float, alpha: float = DEFAULT_ALPHA) -> float:
    """An upper bound on the probability that a sample from a WRONG distribution, at KS distance
    ``distance`` from the expected one, passes ``expect_distribution`` (DKW applied to the wrong
    distribution); 1.0 when the test cannot tell them apart at this size."""
    slack = distance - ks_tolerance(n, alpha)
    if slack <= 0:
        return 1.0
    return min(1.0, 2 * math.exp(-2 * n * slack**2))
