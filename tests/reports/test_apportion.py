"""Booked seconds capped at a month's available time: the borrowers' shares are scaled down alike
to add up to exactly the available seconds, never a second more, whatever order they come in."""

from __future__ import annotations

import itertools
import random

from reports.intervals import apportion


def test_shares_over_the_cap_add_up_to_exactly_the_cap():
    # 3 x 1,000 s of 1,000 s available: a third each, and the odd second to the lowest School.
    assert apportion({7: 1000.0, 3: 1000.0, 5: 1000.0}, 1000) == {3: 334, 5: 333, 7: 333}
    # Two halves that would each round up (2.5 + 2.5 of 5 scaled to 4: 2 + 2, then nothing left).
    assert apportion({1: 2.5, 2: 2.5}, 4) == {1: 2, 2: 2}
    # No School (None) comes after the Schools on a tie.
    assert apportion({None: 1.0, 4: 1.0}, 1) == {4: 1, None: 0}


def test_shares_under_the_cap_are_rounded_but_never_to_more_than_the_cap():
    assert apportion({1: 10.4, 2: 20.0}, 100) == {1: 10, 2: 20}
    # 0.6 + 0.6 = 1.2 of 1 available: rounded each would be 2.
    assert apportion({1: 0.6, 2: 0.6}, 1) == {1: 1, 2: 0}


def test_nothing_is_shared_to_a_share_of_nothing_or_less():
    assert apportion({1: 0.0, 2: -30.0, 3: 50.0}, 20) == {3: 20}


def test_any_order_any_shares_the_same_whole_seconds_within_the_cap():
    rng = random.Random(15)
    for _ in range(300):
        shares = {
            school: rng.choice([rng.uniform(0, 5000), float(rng.randrange(0, 5000))])
            for school in range(1, rng.randrange(2, 6))
        }
        shares[None] = rng.uniform(0, 100)
        cap = rng.randrange(0, 12000)
        result = apportion(shares, cap)
        total = sum(shares.values())
        assert sum(result.values()) == min(cap, round(total))
        scale = min(1.0, cap / total)
        for school, seconds in result.items():
            assert abs(seconds - shares[school] * scale) < 1  # each within a second of its share
        for order in itertools.islice(itertools.permutations(shares), 6):
            assert apportion({school: shares[school] for school in order}, cap) == result
