from harness.pipeline.runner import Estimate
from harness.report.summary import estimate_line


def test_the_estimate_line_says_what_the_cache_answers():
    fresh = Estimate(items=3, samples=6, requests=5, cached=0, second_turns=1, prompt_tokens=1200)
    assert estimate_line("t", fresh) == \
        "t: 3 items, 6 samples, 5 distinct requests + 1 second turns, 1,200 prompt tokens"
    part = fresh.model_copy(update={"cached": 2, "prompt_tokens": 500})
    assert estimate_line("t", part).endswith("5 distinct requests + 1 second turns (2 in the cache), "
                                             "500 prompt tokens to compute")
    assert estimate_line("t", fresh.model_copy(update={"cached": 5})).endswith("(all in the cache)")
    assert estimate_line("t", fresh.model_copy(update={"prompt_tokens": None})).endswith("second turns")
