"""The course in two languages from one source: the rules of ``grader/localize.py``, the two
builds of every bilingual chapter (same cells, exercises, points and code; only words differ),
grading of the Chinese release, and the message catalogues."""

from __future__ import annotations

import ast
import re

import nbformat
import pytest
import torch

from grader import localize
from grader.course import assignment_of, grade
from grader.messages import problems
from grader.release import ASSIGNMENTS, COURSE, build_source, chapter_ids, languages
from tests.conftest import scores

BILINGUAL = [c for c in chapter_ids() if "zh" in languages(c)]
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- the rules --------------------------------------------------------------------------------


def test_a_markdown_cell_gives_each_language_its_words():
    cell = "## 2.1 Tensors\n\nA tensor is an array.\n\n<!-- zh -->\n## 2.1 张量\n\n张量是数组。"
    assert localize.markdown(cell, "en") == "## 2.1 Tensors\n\nA tensor is an array."
    assert localize.markdown(cell, "zh") == "## 2.1 张量\n\n张量是数组。"
    assert localize.markdown("Only English.\n", "en") == "Only English.\n"
    with pytest.raises(localize.TranslationError, match="no Chinese"):
        localize.markdown("Only English.", "zh")


def test_comments_and_strings_of_code_cells_are_translated_in_place():
    cell = ('# Worked example: the row sums\n# zh: 示例：行和\n'
            'y = x.sum(1)  # one per row\n# zh: 每行一个\n'
            'check(y, [3.0], what="the row sums")\n# zh> check(y, [3.0], what="行和")')
    assert localize.code(cell, "en") == ('# Worked example: the row sums\ny = x.sum(1)  # one per '
                                         'row\ncheck(y, [3.0], what="the row sums")')
    assert localize.code(cell, "zh") == ('# 示例：行和\ny = x.sum(1)  # 每行一个\n'
                                         'check(y, [3.0], what="行和")')
    demo = "# Demonstration: the book's data\n# zh: 演示：书中的数据\nplot()"
    assert localize.code(demo, "zh", "# Demonstration").splitlines()[0] == \
        "# Demonstration（演示）：书中的数据"


@pytest.mark.parametrize("changed", ['check(y, [4.0], what="行和")', 'check(z, [3.0], what="行和")',
                                     'check(y, [3.0], what=f"{y}")'])
def test_a_chinese_line_may_not_change_the_code(changed):
    cell = f'check(y, [3.0], what="the row sums")\n# zh> {changed}'
    assert localize.code(cell, "en") == 'check(y, [3.0], what="the row sums")'
    with pytest.raises(localize.TranslationError, match="only strings"):
        localize.code(cell, "zh")


def test_docstrings_give_each_language_its_spec():
    source = ('def f(x):\n    """Twice x.\n\n    Any dtype.\n\n    <!-- zh -->\n    x 的两倍。\n\n'
              '    任意 dtype。\n    """\n    return 2 * x')
    assert localize.docstrings(source, "en") == \
        'def f(x):\n    """Twice x.\n\n    Any dtype.\n    """\n    return 2 * x'
    assert localize.docstrings(source, "zh") == \
        'def f(x):\n    """x 的两倍。\n\n    任意 dtype。\n    """\n    return 2 * x'


# --- the chapters -----------------------------------------------------------------------------


def _code(source: str) -> str:
    """A code cell's syntax tree with strings emptied (docstrings included)."""
    return localize._blanked(source)


@pytest.mark.parametrize("chapter", BILINGUAL)
def test_both_languages_have_the_same_cells_exercises_points_and_code(chapter):
    en, zh = build_source(chapter, "en"), build_source(chapter, "zh")
    assert [c.id for c in en.cells] == [c.id for c in zh.cells]
    assert zh.metadata["language_info"]["natural_language"] == "zh"
    for index, (a, b) in enumerate(zip(en.cells, zh.cells)):
        where = f"{chapter} cell {index} ({a.id})"
        assert a.cell_type == b.cell_type, where
        assert a.metadata == b.metadata, where
        if a.cell_type == "markdown":
            assert CJK.search(b.source) and b.source != a.source, f"{where} is not in Chinese"
            continue
        chinese = b.source
        if index == next(i for i, c in enumerate(zh.cells) if c.cell_type == "code"):
            assert chinese.endswith(localize.SET_LANGUAGE["zh"]), where
            chinese = chinese.removesuffix(localize.SET_LANGUAGE["zh"])
        assert _code(a.source) == _code(chinese), f"{where}: the code differs"
        nbgrader = a.metadata.get("nbgrader", {})
        if nbgrader.get("solution"):
            doc = ast.get_docstring(ast.parse(chinese).body[0]) or ""
            assert CJK.search(doc), f"{where}: the docstring of {nbgrader['grade_id']} is English"


@pytest.mark.parametrize("chapter", BILINGUAL)
def test_the_chinese_release_is_graded_like_the_english_one(chapter):
    source = COURSE / "source" / f"{chapter}_zh" / f"{chapter}.ipynb"
    release = ASSIGNMENTS / f"{chapter}_zh" / f"{chapter}.ipynb"
    full = grade(source, chapter, lang="zh")
    assert full["lang"] == "zh"
    lost = {n: s for n, s in scores(full).items() if s[0] != s[1]}
    assert not lost and full["score"] == full["max_score"] > 0, lost
    empty = grade(release, chapter, lang="zh")
    assert empty["score"] == 0, scores(empty)
    assert nbformat.read(release, as_version=4).metadata["language_info"][
        "natural_language"] == "zh"


def test_assignment_names_carry_the_language():
    assert assignment_of("ch03") == ("ch03", "en")
    assert assignment_of("ch03_zh") == ("ch03", "zh")


# --- the messages -----------------------------------------------------------------------------


def test_every_message_is_translated_and_compiled():
    assert problems() == []


def test_the_checker_speaks_the_notebooks_language():
    from course.checking import compare
    from course.i18n import use_language

    try:
        use_language("zh")
        message = compare(torch.zeros(2), torch.ones(2, 3), what="行和")
        assert message == "行和 的形状是 (2,)；应为 (2, 3)"
    finally:
        use_language("en")
    assert compare(torch.zeros(2), torch.ones(2, 3), what="the row sums") == \
        "the row sums has shape (2,); expected (2, 3)"


def test_feedback_follows_the_reports_language():
    from grader.autograde import feedback_text

    exercise = {"name": "softmax", "score": 1.0, "max_score": 2,
                "tests": [{"name": "rows", "passed": True, "message": ""}]}
    assert feedback_text(exercise, {"seed": 7, "lang": "zh"}).startswith("softmax：1 / 2 分")
    assert feedback_text(exercise, {"seed": 7, "lang": "en"}).startswith("softmax: 1 / 2 points")


def test_the_engines_messages_follow_the_grading_language():
    from grader.course import exercises_of
    from tests.conftest import release_notebook

    chapter = chapter_ids()[0]
    first = next(iter(exercises_of(chapter)))
    messages = {}
    for lang in ("zh", "en"):
        report = grade(release_notebook(chapter), chapter, lang=lang, exercises=(first,))
        entry = next(e for e in report["exercises"] if e["name"] == first)
        messages[lang] = " ".join(t["message"] for t in entry["tests"])
    assert "这个练习还没有实现" in messages["zh"], messages["zh"]
    assert "the exercise is not implemented yet" in messages["en"], messages["en"]


WRONG_CH03 = """
def accuracy(y_hat, y):
    return float((y_hat.argmax(axis=1) == y).float().mean())  # a fraction, not the count


def linreg(X, w, b):
    return torch.matmul(X, w) - b
"""


def test_hidden_checks_explain_failures_and_hint_in_the_grading_language(tmp_path):
    from tests.conftest import with_extra_cell

    assert "zh" in languages("ch03")
    messages = {}
    for lang, folder in (("zh", "ch03_zh"), ("en", "ch03")):
        path = with_extra_cell(ASSIGNMENTS / folder / "ch03.ipynb", WRONG_CH03,
                               tmp_path / f"{folder}.ipynb")
        report = grade(path, "ch03", lang=lang, exercises=("accuracy", "linreg"), seed=3)
        assert report["lang"] == lang
        messages[lang] = {e["name"]: " ".join(t["message"] for t in e["tests"])
                          for e in report["exercises"]}
    zh, en = messages["zh"], messages["en"]
    # An engine template (expect_number) with a chapter's hint, both in Chinese ...
    assert ("accuracy(y_hat, y) on the worked example with y = [0, 2] 返回了 0.5；应为 1"
            "（容差 1e-06 + 1e-06·|期望值|）。提示：统计 argmax 等于标签的行数"
            in zh["accuracy"]), zh["accuracy"]
    # ... and the checker's template (a tensor) with a chapter's hint.
    assert "不正确" in zh["linreg"] and "。提示：模型是 torch.matmul(X, w) + b" in zh["linreg"], \
        zh["linreg"]
    assert "returned" not in zh["accuracy"] and "Hint" not in zh["accuracy"] + zh["linreg"]
    assert ("accuracy(y_hat, y) on the worked example with y = [0, 2] returned 0.5; expected 1 "
            "(tolerance 1e-06 + 1e-06·|expected|). Hint: count the rows whose argmax equals the "
            "label") in en["accuracy"], en["accuracy"]
    assert "is wrong" in en["linreg"] and ". Hint: the model is torch.matmul(X, w) + b" in \
        en["linreg"], en["linreg"]
    assert not CJK.search(en["accuracy"] + en["linreg"])


WRONG_CH10 = """
def masked_softmax(X, valid_lens):  # fills with -inf: an empty row becomes NaN
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    shape = X.shape
    if valid_lens.dim() == 1:
        valid_lens = torch.repeat_interleave(valid_lens, shape[1])
    else:
        valid_lens = valid_lens.reshape(-1)
    X = X.reshape(-1, shape[-1])
    mask = torch.arange(X.size(1), device=X.device)[None, :] < valid_lens[:, None]
    return nn.functional.softmax(X.masked_fill(~mask, float("-inf")).reshape(shape), dim=-1)
"""

WRONG_CH15 = """
def corr1d(X, K):  # a convolution (flipped kernel), not a cross-correlation
    w = K.shape[0]
    return torch.stack([(X[i:i + w] * K.flip(0)).sum() for i in range(X.shape[0] - w + 1)])
"""

WRONG_CH12 = """
def split_batch(X, y, devices):  # interleaved rows, not consecutive ones
    n = len(devices)
    return ([X[i::n].to(d) for i, d in enumerate(devices)],
            [y[i::n].to(d) for i, d in enumerate(devices)])
"""


MASK_HINT_ZH = ("把键的位置 >= 有效长度处的分数替换为 -1e6，然后在最后一个轴上做 softmax；一维的 "
                "valid_lens 作用于一个样本的所有查询，二维的则作用于每个查询")
MASK_HINT_EN = ("replace the scores at key positions >= the valid length by -1e6, then softmax "
                "over the last axis; a 1-D valid_lens applies to every query of an example, a 2-D "
                "one to each query")


@pytest.mark.parametrize("chapter, code, exercise, zh, en", [
    # a hint formatted after translation (MASK_HINT within the advice for an empty row), in the
    # template for a non-finite value
    ("ch10", WRONG_CH10, "masked_softmax",
     ["在索引 (1, 0, 0) 处不是有限值", f"{MASK_HINT_ZH}；有效长度为 0 的行的所有分数都被替换，"
      "因此其权重是均匀的（用 -inf 填充会得到 NaN）"],
     ["is not finite at index (1, 0, 0)", f"; {MASK_HINT_EN}; a row whose valid length is 0 has "
      "every score replaced, so its weights are uniform (a -inf fill would give NaN)"]),
    # a module-level hint constant passed on to a helper, in the checker's template for tensors
    ("ch15", WRONG_CH15, "corr1d",
     ["不正确", "。提示：对 i in range(len(X) - w + 1)：Y[i] = (X[i:i + w] * K).sum()"],
     ["is wrong", ". Hint: Y[i] = (X[i:i + w] * K).sum() for i in range(len(X) - w + 1)"]),
    # a hint that needs a value: translated, then formatted (say(_("... {key} ...")).format)
    ("ch12", WRONG_CH12, "split_batch",
     ["不正确", "。提示：连续的行：沿第 0 维执行 X.chunk(len(devices))"],
     ["is wrong", ". Hint: consecutive rows: X.chunk(len(devices)) along dim 0"]),
])
def test_later_chapters_hint_in_the_grading_language(chapter, code, exercise, zh, en, tmp_path):
    from tests.conftest import with_extra_cell

    assert "zh" in languages(chapter)
    messages = {}
    for lang, folder in (("zh", f"{chapter}_zh"), ("en", chapter)):
        path = with_extra_cell(ASSIGNMENTS / folder / f"{chapter}.ipynb", code,
                               tmp_path / f"{folder}.ipynb")
        report = grade(path, chapter, lang=lang, exercises=(exercise,), seed=3)
        assert report["lang"] == lang
        messages[lang] = " ".join(t["message"] for e in report["exercises"]
                                  if e["name"] == exercise for t in e["tests"])
    for part in zh:
        assert part in messages["zh"], messages["zh"]
    for part in en:
        assert part in messages["en"], messages["en"]
    assert "Hint" not in messages["zh"] and "replace the scores" not in messages["zh"]
    assert not CJK.search(messages["en"])


@pytest.mark.parametrize("chapter", BILINGUAL[:1])
def test_the_chinese_notebook_runs_and_its_checker_speaks_chinese(chapter, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    nb = nbformat.read(COURSE / "source" / f"{chapter}_zh" / f"{chapter}.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if not c.source.startswith("# Demonstration")]
    monkeypatch.setenv("D2L_COURSE_DATA", str(tmp_path / "data"))
    NotebookClient(nb, timeout=300, kernel_name="python3", shutdown_kernel="immediate",
                   extra_arguments=["--log-level=ERROR"],
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.outputs if o.get("output_type") == "stream")
    assert "与示例一致" in text and "公开检查通过" in text, text[:500]
    assert "matches the worked example" not in text


def test_the_cli_table_speaks_the_grading_language():
    from grader.engine import words
    from grader.engine.report import format_table

    report = {"assignment": "ch03", "score": 1, "max_score": 4, "seed": 7,
              "exercises": [{"name": "softmax", "score": 1, "max_score": 2, "graded": True,
                             "tests": [{"passed": False, "message": "wrong"}]},
                            {"name": "accuracy", "score": 0, "max_score": 2, "graded": False,
                             "tests": []}],
              "load_errors": [{"cell": 3, "type": "NameError", "message": "x"}]}
    english = format_table(report)
    assert "(1 of 2 exercises graded)" in english and "first problem" in english
    assert "seed 7 (pass --seed 7 to reproduce)" in english and not CJK.search(english)
    try:
        words.use("grader.i18n:words", "zh")
        chinese = format_table(report)
    finally:
        words.use("", "en")
    assert "练习" in chinese and "第一个问题" in chinese and "单元格 3" in chinese
    assert "--seed 7" in chinese and "softmax" in chinese
