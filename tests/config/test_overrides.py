"""--gen-kwargs parsing and checking."""

import pytest

from harness.config.overrides import parse_gen_kwargs
from harness.core.errors import HarnessError


def test_parse_gen_kwargs():
    assert parse_gen_kwargs(None) == {}
    assert parse_gen_kwargs("temperature=0.7, max_tokens=64,top_p=0.9,stop=Q:") == \
        {"temperature": 0.7, "max_tokens": 64, "top_p": 0.9, "stop": ["Q:"]}
    for bad, why in (("temperature", "not key=value"), ("max_tokens=0", "greater than or equal to 1"),
                     ("seed=3", "unknown key"), ("temperature=hot", "valid number")):
        with pytest.raises(HarnessError, match=why):
            parse_gen_kwargs(bad)
