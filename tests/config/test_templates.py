import pytest

from harness.config.templates import PromptTemplate
from harness.core.errors import HarnessError


def template(tmp_path, text):
    f = tmp_path / "t.j2"
    f.write_text(text)
    return PromptTemplate(f)


def test_renders_and_strips(tmp_path):
    assert template(tmp_path, "Q: {{ question }}\n\n").render({"question": "why?"}) == "Q: why?"


def test_unknown_variable_is_an_error(tmp_path):
    with pytest.raises(HarnessError, match="unknown variable") as info:
        template(tmp_path, "{{ questoin }}").render({"question": "x"}, item_id="q7")
    assert "q7" in info.value.message and info.value.file.endswith("t.j2")


@pytest.mark.parametrize("payload", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ question.__class__ }}",
    "{{ cycler.__init__.__globals__.os }}",
])
def test_sandbox_blocks_internals(tmp_path, payload):
    with pytest.raises(HarnessError):
        template(tmp_path, payload).render({"question": "x"})


def test_syntax_error_names_line(tmp_path):
    with pytest.raises(HarnessError) as info:
        template(tmp_path, "ok\n{% for %}\n")
    assert info.value.line == 2
