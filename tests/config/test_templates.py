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


@pytest.mark.parametrize(("text", "fragment"), [
    ("{{ ('x\\n' * 9999)|indent('y' * 999) }}", "more than 1,000,000 characters"),
    ("{{ ('x ' * 99999)|wordwrap(2, wrapstring='z' * 99) }}", "more than 1,000,000 characters"),
    ("{% set b = 'x' * 999999 %}{{ '%s%s'|format(b, b) }}", "a formatted string of more than"),
    ("{{ '%*d'|format(5, 1) }}", "`*` widths"),
    ("{{ ('\\t' * 99999).expandtabs(999) }}", "more than 1,000,000 characters"),
    ("{{ range(999)|batch(999999, 'x' * 999)|list|tojson }}", "more than 1,000,000 characters"),
])
def test_growth_is_checked_before_it_happens(tmp_path, text, fragment):
    with pytest.raises(HarnessError, match="unsafe operation") as info:
        template(tmp_path, text).render({"question": "x"})
    assert fragment in info.value.message


@pytest.mark.parametrize(("text", "out"), [
    ("{{ question|indent(2) }}", "a\n  b"),
    ("{{ 'a b c'|wordwrap(3) }}", "a b\nc"),
    ("{{ '%s=%d'|format('n', 3) }} {{ '%05.1f' % 2.5 }}", "n=3 002.5"),
    ("{{ ', '.join(question.split('\\n')) }} {{ question.replace('\\n', '+') }}", "a, b a+b"),
    ("{% set n = namespace(t='') %}{% for i in range(3) %}{% set n.t = n.t ~ i %}{% endfor %}{{ n.t }}", "012"),
])
def test_ordinary_templates_render_as_before(tmp_path, text, out):
    assert template(tmp_path, text).render({"question": "a\nb"}) == out
