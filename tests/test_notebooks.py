"""The notebooks in notebooks/: what make_notebooks.py makes now, and each runs from top to
bottom in a fresh kernel, printing what its script prints and writing the same figures.
The generator itself is tested on small made-up lessons: what it builds, and how it
refuses a README section without code or code without a README section."""

import copy
import json
import re
import subprocess
import sys
import textwrap

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError
from traitlets import default

import make_notebooks
from conftest import ROOT, headless_env

LESSONS = make_notebooks.lesson_scripts(ROOT)
FIGURES_BLOCK = "\nFigures\n-------\n"


@pytest.fixture(scope="module")
def generated():
    return make_notebooks.render_all(ROOT)


TIMED_ROW = re.compile(r"^(\s+\S.*?\s\d+)\s+[\d.]+\s+[\d.]+$")  # "...  calls  ms  GMAC/s" rows


def without_timings(text):
    """The text with every measured time or speed replaced by "#", since two runs never take
    exactly as long: a number before " ms", " s" or " GMAC/s", and the last two columns of
    the rows of a table whose header names GMAC/s."""
    lines, in_table = [], False
    for line in re.sub(r"\d[\d.,]*(?= (ms|s|GMAC/s)\b)", "#", text).split("\n"):
        if in_table and TIMED_ROW.match(line):
            line = TIMED_ROW.sub(r"\1 # #", line)
        else:
            in_table = line.rstrip().endswith("GMAC/s")
        lines.append(line)
    return "\n".join(lines)


def test_timings_are_masked_and_nothing_else():
    text = "patches: 0.16 ms; 441 parameters\n  as   calls   ms  GMAC/s\n  one call   1   7.93   2.2\n  12 rows   3   4.5   6.5"
    assert without_timings(text) == (
        "patches: # ms; 441 parameters\n  as   calls   ms  GMAC/s\n  one call   1 # #\n  12 rows   3 # #"
    )
    assert without_timings("  other table   1   7.93   2.2") == "  other table   1   7.93   2.2"


def test_there_is_one_notebook_per_lesson_and_no_other(generated):
    assert LESSONS[0] == "0_1D.py"
    assert sorted(generated) == [script.replace(".py", ".ipynb") for script in LESSONS]
    assert sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb")) == sorted(generated)


@pytest.mark.parametrize("script", LESSONS)
def test_committed_notebook_is_what_the_generator_makes_now(script, generated):
    name = script.replace(".py", ".ipynb")
    committed = (ROOT / "notebooks" / name).read_text(encoding="utf-8")
    assert committed == generated[name], f"notebooks/{name} is out of date: run make notebooks"


@pytest.mark.parametrize("script", LESSONS)
def test_committed_notebook_is_valid_has_no_outputs_and_no_path_of_this_machine(script):
    text = (ROOT / "notebooks" / script.replace(".py", ".ipynb")).read_text(encoding="utf-8")
    nbformat.validate(nbformat.reads(text, as_version=4))
    assert str(ROOT) not in text
    notebook = json.loads(text)
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code and all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    ids = [cell["id"] for cell in notebook["cells"]]
    assert len(set(ids)) == len(ids)
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


# Running them --------------------------------------------------------------------------------


class ThisInterpreterKernel(AsyncKernelManager):
    """A kernel manager whose "python3" is ipykernel on this very interpreter, whatever
    kernels are installed elsewhere on the machine."""

    @default("kernel_spec_manager")
    def _only_the_native_kernel(self):
        return KernelSpecManager(kernel_dirs=[])


def stdout_of(cells):
    return "".join(
        output["text"] for cell in cells for output in cell.get("outputs", []) if output.get("name") == "stdout"
    )


def tagged(notebook, *tags):
    return [cell for cell in notebook.cells if cell.cell_type == "code" and set(cell.metadata["tags"]) & set(tags)]


def figure_files(block):
    """The file names a "Figures" block lists (its first line names the folder, which differs)."""
    return [line.strip() for line in block.splitlines()[1:] if line.strip()]


CELL_SECONDS = 240  # far more than any cell takes; a kernel silent for longer has stopped answering


def executed(notebook):
    """The notebook run top to bottom in a fresh kernel (a copy; the argument is not changed).
    A kernel that stops answering, with no reply to a cell within CELL_SECONDS, is replaced by
    a fresh one once; an error in a cell is never retried."""
    for attempt in (1, 2):
        client = NotebookClient(
            copy.deepcopy(notebook),
            timeout=CELL_SECONDS,
            kernel_name="python3",
            kernel_manager_class=ThisInterpreterKernel,
            resources={"metadata": {"path": str(ROOT / "notebooks")}},
        )
        try:
            return client.execute(env=headless_env())
        except CellTimeoutError:
            if attempt == 2:
                raise


@pytest.mark.parametrize("script", LESSONS)
def test_notebook_runs_and_prints_and_draws_what_its_script_does(script, tmp_path, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)
    out = tmp_path / "script figures"
    # The script runs beside the notebook, so that the two share the machine's cores.
    process = subprocess.Popen(
        [sys.executable, str(ROOT / script), "--out", str(out)],
        cwd=tmp_path,
        env=headless_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        notebook = executed(nbformat.read(ROOT / "notebooks" / script.replace(".py", ".ipynb"), as_version=4))
    finally:
        stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr

    expected, _, expected_figures = stdout.partition(FIGURES_BLOCK)
    printed = stdout_of(tagged(notebook, "setup", "section"))
    assert without_timings(printed) == without_timings(expected)
    written = stdout_of(tagged(notebook, "figures"))
    assert written.startswith(FIGURES_BLOCK)
    assert figure_files(written[len(FIGURES_BLOCK) :]) == figure_files(expected_figures)
    # The lesson cells show no Out[] value: only what the script prints, and pictures.
    shown = {output["output_type"] for cell in tagged(notebook, "setup", "section") for output in cell.outputs}
    assert shown <= {"stream", "display_data"}
    # Every picture written appears inline too.
    pictures = [
        output for cell in tagged(notebook, "section") for output in cell.outputs if "image/png" in output.get("data", {})
    ]
    assert len(pictures) >= sum(name.endswith(".png") for name in figure_files(expected_figures))
    # The notebook wrote its figures into figures/, byte for byte what the script writes.
    for name in figure_files(expected_figures):
        assert (ROOT / "figures" / name).read_bytes() == (out / name).read_bytes(), name


# The generator, on made-up lessons ------------------------------------------------------------


DEMO_LESSON = '''\
"""A demo lesson.

It adds two numbers.
"""

import lessonkit


def first(figures):
    """README: First."""
    lessonkit.heading("First")
    print("one")


def second():
    lessonkit.heading("Second")
    return 2


def main(argv=None):
    """The table of contents."""
    args = lessonkit.parse_args(__doc__, argv, image="x.png", options={"--kernel": ("ROWS", "a kernel")})
    figures = lessonkit.Figures(args)
    if args.kernel is not None:
        return figures.write()
    # a comment kept with its statement
    value = 1
    first(figures)
    second()
    return figures.write()
'''

DEMO_README = """\
# Demo

## First

See ![a picture](figures/a.png), [the licence](LICENSE) and [the second part](#second).

<!-- output: 0_demo.py -->
```text
one
```

### Second

Text.

## Elsewhere

Not this lesson's.
"""


def demo(tmp_path, lesson=DEMO_LESSON, readme=DEMO_README):
    (tmp_path / "0_demo.py").write_text(lesson, encoding="utf-8")
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    return tmp_path


def cells_of(root):
    notebook = nbformat.reads(make_notebooks.render_all(root)["0_demo.ipynb"], as_version=4)
    return [(cell.cell_type, cell.metadata["tags"][0], cell.source) for cell in notebook.cells]


def test_a_notebook_is_the_readme_text_and_the_statements_of_main_section_by_section(tmp_path):
    cells = cells_of(demo(tmp_path))
    assert [(kind, tag) for kind, tag, _ in cells] == [
        ("markdown", "title"),
        ("code", "setup"),
        ("markdown", "section"),
        ("code", "section"),
        ("markdown", "section"),
        ("code", "section"),
        ("markdown", "figures"),
        ("code", "figures"),
    ]
    title, setup, first_text, first_code, second_text, second_code, _, write = (source for _, _, source in cells)
    assert title.startswith("# A demo lesson\n\nIt adds two numbers.")
    assert "??first" in title and "%psource first" in title
    assert "%matplotlib inline" in setup and 'importlib.import_module("0_demo")' in setup
    assert "parse_args" not in setup
    assert 'args = Namespace(image=Path("x.png"), kernel=None, out=lessonkit.FIGURES_DIR, show=False)' in setup
    assert setup.endswith("\nfigures = lessonkit.Figures(args)")
    assert first_text.startswith("## First\n")
    assert "![a picture](../figures/a.png)" in first_text
    assert "[the licence](../LICENSE)" in first_text
    assert "[the second part](../README.md#second)" in first_text
    assert "<!--" not in first_text and "```text\none\n```" in first_text
    # A statement that prints no heading joins the next section; the --kernel branch is left out.
    assert first_code == "# a comment kept with its statement\nvalue = 1\nfirst(figures)"
    assert second_text == "### Second\n\nText."
    assert second_code == "second();"  # its value is not shown as Out[]
    assert write == "figures.write();"


def test_generating_twice_gives_the_same_bytes(tmp_path):
    root = demo(tmp_path)
    assert make_notebooks.render_all(root) == make_notebooks.render_all(root)


def test_a_readme_section_with_no_statement_in_main_is_an_error(tmp_path):
    readme = DEMO_README.replace("### Second", "### Third\n\nNo code.\n\n### Second")
    wanted = r"### Third \(README.md line 12\) has no statement in main\(\)"
    with pytest.raises(make_notebooks.NotebookError, match=wanted):
        make_notebooks.render_all(demo(tmp_path, readme=readme))


def test_a_heading_printed_with_no_readme_section_is_an_error(tmp_path):
    lesson = DEMO_LESSON.replace('heading("Second")', 'heading("Second part")')
    wanted = r"second\(\) prints the heading 'Second part', but README.md has no"
    with pytest.raises(make_notebooks.NotebookError, match=wanted):
        make_notebooks.render_all(demo(tmp_path, lesson=lesson))


def test_sections_run_out_of_readme_order_are_an_error(tmp_path):
    lesson = DEMO_LESSON.replace("    first(figures)\n    second()\n", "    second()\n    first(figures)\n")
    with pytest.raises(make_notebooks.NotebookError, match="README order"):
        make_notebooks.render_all(demo(tmp_path, lesson=lesson))


def test_make_notebooks_writes_checks_and_refuses_with_one_error_line(tmp_path, monkeypatch, capsys):
    root = demo(tmp_path)
    monkeypatch.setattr(make_notebooks, "ROOT", root)
    assert make_notebooks.main(["--check"]) == 1  # no notebooks yet
    assert make_notebooks.main([]) == 0
    written = (root / "notebooks" / "0_demo.ipynb").read_text(encoding="utf-8")
    assert written == make_notebooks.render_all(root)["0_demo.ipynb"]
    assert make_notebooks.main(["--check"]) == 0
    (root / "notebooks" / "9_gone.ipynb").write_text("{}", encoding="utf-8")
    assert make_notebooks.main(["--check"]) == 1
    assert make_notebooks.main([]) == 0 and not (root / "notebooks" / "9_gone.ipynb").exists()
    capsys.readouterr()

    (root / "README.md").write_text(DEMO_README.replace("### Second", "### Other"), encoding="utf-8")
    assert make_notebooks.main([]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: 0_demo.py: second() prints the heading 'Second'") and error.count("\n") == 1


def test_playground_and_exercises_follow_the_lesson(tmp_path):
    lesson = DEMO_LESSON.replace(
        "def main(", 'def interactive_playground():\n    """Sliders for a and b."""\n    return 3\n\n\ndef main('
    )
    root = demo(tmp_path, lesson=lesson)
    (root / "selfcheck.py").write_text(
        'EXERCISES = ["add", "other"]\nLESSON = {"add": "0_demo", "other": "1_other"}\n', encoding="utf-8"
    )
    (root / "1_other.py").write_text(DEMO_LESSON.replace('"First"', '"Elsewhere"').replace("    second()\n", ""))
    (root / "exercises").mkdir()
    (root / "exercises" / "add.py").write_text(
        textwrap.dedent(
            '''\
            """Write add(a, b): the sum of two arrays of one shape.

            >>> add(1, 2)
            3
            """

            import sys

            import numpy as np


            def add(a, b):
                """a, b: arrays of one shape."""
                raise NotImplementedError


            if __name__ == "__main__":
                sys.exit(0)
            '''
        ),
        encoding="utf-8",
    )
    (root / "exercises" / "other.py").write_text('def other():\n    """Another task."""\n', encoding="utf-8")
    cells = cells_of(root)
    tags = [tag for _, tag, _ in cells]
    assert tags[-9:] == ["playground", "playground", "figures", "figures"] + ["exercise"] * 5
    assert cells[-9][2].startswith("## Playground\n\nSliders for a and b.")
    assert cells[-8][2] == "interactive_playground();"
    assert cells[-4][2] == "import selfcheck"
    assert cells[-3][2] == (
        "### Exercise: `add`\n\nWrite add(a, b): the sum of two arrays of one shape.\n\n    >>> add(1, 2)\n    3"
    )
    stub = cells[-2][2]
    assert stub.startswith("import numpy as np\n\n\ndef add(a, b):") and stub.endswith("raise NotImplementedError")
    assert "sys" not in stub and "__main__" not in stub
    assert cells[-1][2] == 'print(selfcheck.check("add", add))'

    (root / "1_other.py").unlink()
    with pytest.raises(make_notebooks.NotebookError, match="no lesson script for the exercise.s. other"):
        make_notebooks.render_all(root)
