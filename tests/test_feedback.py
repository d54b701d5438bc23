"""Feedback pages work offline: TeX becomes MathML, code is left alone."""

from grader.feedback import tex_to_mathml


def test_math_becomes_mathml_and_code_stays():
    text = "Loss $\\ell = (y - \\hat y)^2$ and $$\\sum_i x_i$$ but `cost = $5` stays."
    html = tex_to_mathml(text)
    assert html.count("<math") == 2 and 'display="block"' in html
    assert "`cost = $5`" in html and "$" not in html.replace("`cost = $5`", "")
    assert tex_to_mathml("no math here") == "no math here"
