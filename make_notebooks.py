"""Write notebooks/N_name.ipynb for every lesson script N_name.py, from the script and README.md.

A lesson's main() is its table of contents: it calls one function per README section,
in README order, and each of those functions starts with lessonkit.heading("<the
section's heading>"). A notebook follows it: a title cell, a set-up cell that loads
the lesson, then for each section its README text and the statement(s) of main() that
run it, the lesson's playground if it has one, the cell that writes the figures, and
the lesson's exercises if selfcheck.py lists any. Nothing is run and nothing is
imported from the lessons: the scripts are read with ast.

    python make_notebooks.py          # (re)write notebooks/*.ipynb
    python make_notebooks.py --check  # only say whether they are up to date (exit 1 if not)

A README section of a lesson that no statement of main() runs, or a heading printed by
main() that README.md lacks, is an error: the notebooks cannot drift from the text.
"""

import argparse
import ast
import importlib.util
import inspect
import re
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent
LESSON_PATTERN = "[0-9]_*.py"
HEADING_FUNCTIONS = {"heading"}  # lessonkit.heading, or heading imported from lessonkit
EXERCISES_HEADING = "Exercises"  # a README list of commands, turned into exercise cells here
FENCE = re.compile(r"^\s*(```|~~~)")
README_HEADING = re.compile(r"^(##|###) (.+?)\s*$")
COMMENT = re.compile(r"<!--.*?-->", re.S)
LINK = re.compile(r"(\]\()([^)\s]+)")
HTML_LINK = re.compile(r"""((?:src|href)=["'])([^"']+)""")


class NotebookError(Exception):
    """README.md and a lesson's main() do not match, so no notebook can be made."""


# README.md -----------------------------------------------------------------------------


def readme_sections(readme_text):
    """The ## and ### sections of README.md, in order: dicts with level (2 or 3), title,
    line (1-based) and text (heading line included, up to the next ## or ### heading).
    Lines inside fenced code blocks are never headings.

    >>> [s["title"] for s in readme_sections("# T\\n## A\\nx\\n```\\n## no\\n```\\n### B\\ny\\n")]
    ['A', 'B']
    """
    lines = readme_text.splitlines()
    starts = []
    in_fence = False
    for number, line in enumerate(lines):
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (match := README_HEADING.match(line)):
            starts.append((number, len(match[1]), match[2]))
    ends = [start for start, _, _ in starts[1:]] + [len(lines)]
    return [
        {"level": level, "title": title, "line": start + 1, "text": "\n".join(lines[start:end])}
        for (start, level, title), end in zip(starts, ends)
    ]


def link_from_notebooks(target):
    """A README link target rewritten to work from notebooks/: a relative path gets
    ../ in front, an anchor in the README points into ../README.md.

    >>> link_from_notebooks("figures/1d_modes.png"), link_from_notebooks("#image-filter")
    ('../figures/1d_modes.png', '../README.md#image-filter')
    >>> link_from_notebooks("https://example.org/x.png")
    'https://example.org/x.png'
    """
    if target.startswith("#"):
        return "../README.md" + target
    if re.match(r"[A-Za-z][\w+.-]*:", target) or target.startswith("/"):
        return target
    return "../" + target


def markdown_for_notebook(text):
    """A README section's text as a notebook's Markdown cell: links and pictures
    rewritten to resolve from notebooks/, HTML comments (the README's test markers)
    dropped. Fenced code blocks are left as they are."""
    out = []
    in_fence = False
    for line in COMMENT.sub("", text).splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            rewrite = lambda match: match[1] + link_from_notebooks(match[2])  # noqa: E731
            line = HTML_LINK.sub(rewrite, LINK.sub(rewrite, line))
        out.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def docstring_markdown(text):
    """A docstring as Markdown: its doctest examples (from a >>> line up to the next blank
    line) become an indented code block, where Markdown would read the > signs as quotes."""
    out = []
    in_example = False
    for line in text.splitlines():
        if line.startswith(">>>") and not in_example:
            in_example = True
            if out and out[-1].strip():
                out.append("")
        elif not line.strip():
            in_example = False
        out.append("    " + line if in_example else line)
    return "\n".join(out)


# A lesson script --------------------------------------------------------------------------


def module_functions(tree):
    """{name: FunctionDef} of a module's top-level functions."""
    return {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def own_nodes(function):
    """The nodes of a function's body, not those of functions or lambdas defined inside it."""
    stack = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def returns_a_value(function):
    """Whether a function has a ``return <value>`` (so a bare call of it would show an Out[] cell)."""
    return any(
        isinstance(node, ast.Return)
        and node.value is not None
        and not (isinstance(node.value, ast.Constant) and node.value.value is None)
        for node in own_nodes(function)
    )


def call_name(call):
    """'f' for f(...) and 'lessonkit.f' for lessonkit.f(...); None for other calls."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
        return f"{call.func.value.id}.{call.func.attr}"
    return None


def headings_printed(function, script):
    """The headings a section function prints: the string literals it passes to lessonkit.heading."""
    found = []
    for node in own_nodes(function):
        if isinstance(node, ast.Call) and (call_name(node) or "").split(".")[-1] in HEADING_FUNCTIONS:
            argument = node.args[0] if len(node.args) == 1 else None
            if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
                raise NotebookError(
                    f"{script}: {function.name}() calls heading() with something other than one string "
                    f"literal (line {node.lineno}); write the README heading out"
                )
            found.append(argument.value)
    return found


def dict_keys(node, tree, script):
    """The keys of a dict literal, or of a module-level NAME = {...} when node is NAME."""
    if isinstance(node, ast.Name):
        for statement in tree.body:
            if isinstance(statement, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == node.id for target in statement.targets
            ):
                node = statement.value
    if not isinstance(node, ast.Dict) or not all(isinstance(key, ast.Constant) for key in node.keys):
        raise NotebookError(f"{script}: parse_args' flags and options must be a dict with literal keys")
    return [key.value for key in node.keys]


def option_name(flag):
    """argparse's attribute name for an option: '--my-option' -> 'my_option'."""
    return flag.lstrip("-").replace("-", "_")


class Lesson:
    """What the notebook needs from one lesson script, read with ast."""

    def __init__(self, path):
        self.path = Path(path)
        self.script = self.path.name
        self.stem = self.path.stem
        self.source = self.path.read_text(encoding="utf-8")
        self.lines = self.source.splitlines()
        tree = ast.parse(self.source, filename=self.script)
        self.tree = tree
        docstring = ast.get_docstring(tree)
        if not docstring:
            raise NotebookError(f"{self.script}: no module docstring to take the title from")
        title, _, description = docstring.partition("\n")
        self.title, self.description = title.strip().rstrip("."), inspect.cleandoc(description)
        self.functions = module_functions(tree)
        if "main" not in self.functions:
            raise NotebookError(f"{self.script}: no main() to read the sections from")
        self.main = self.functions["main"]
        self.namespace = {"out": "lessonkit.FIGURES_DIR", "show": "False"}
        self.learner_options = set()
        self.figures_statement = None
        self.write_statement = None
        self.steps = []  # (source, [(heading, function)], node) of main()'s statements, set-up and write excluded
        self._read_main()

    def segment(self, node, start_line):
        """The source of a statement of main(), with the comment lines just above it, dedented."""
        lines = self.lines[start_line - 1 : node.end_lineno]
        while lines and not lines[0].strip():
            lines.pop(0)
        return textwrap.dedent("\n".join(lines)).strip()

    def _read_parse_args(self, call):
        for keyword in call.keywords:
            if keyword.arg == "image":
                self.namespace["image"] = f"Path({ast.get_source_segment(self.source, keyword.value)})"
            elif keyword.arg == "flags":
                for flag in dict_keys(keyword.value, self.tree, self.script):
                    self.namespace[option_name(flag)] = "False"
                    self.learner_options.add(option_name(flag))
            elif keyword.arg == "options":
                for option in dict_keys(keyword.value, self.tree, self.script):
                    self.namespace[option_name(option)] = "None"
                    self.learner_options.add(option_name(option))

    def _uses_learner_option(self, node):
        return any(
            isinstance(sub, ast.Attribute)
            and isinstance(sub.value, ast.Name)
            and sub.value.id == "args"
            and sub.attr in self.learner_options
            for sub in ast.walk(node)
        )

    def _read_main(self):
        body = list(self.main.body)
        next_line = body[0].lineno if body else self.main.lineno
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            next_line = body.pop(0).end_lineno + 1  # main's docstring
        for node in body:
            start, next_line = next_line, node.end_lineno + 1
            value = getattr(node, "value", None)
            name = call_name(value) if isinstance(value, ast.Call) else None
            if isinstance(node, ast.Assign) and name and name.endswith("parse_args"):
                self._read_parse_args(value)
            elif isinstance(node, ast.Assign) and name and name.endswith("Figures"):
                self.figures_statement = self.segment(node, start)
            elif isinstance(node, ast.If) and self._uses_learner_option(node.test):
                continue  # what a command-line option asks for instead of the lesson
            elif isinstance(node, ast.Return):
                if node is not body[-1] or value is None:
                    raise NotebookError(f"{self.script}: main() must end with `return figures.write()`")
                self.write_statement = ast.get_source_segment(self.source, value) + ";"  # no Out[] value
            else:
                self.steps.append((self.segment(node, start), self._statement_headings(node), node))
        if self.figures_statement is None or self.write_statement is None:
            raise NotebookError(
                f"{self.script}: main() must make `figures = lessonkit.Figures(args)` and end with "
                "`return figures.write()`"
            )

    def _statement_headings(self, node):
        headings = []
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id in self.functions:
                printed = headings_printed(self.functions[sub.func.id], self.script)
                if len(printed) > 1:
                    raise NotebookError(
                        f"{self.script}: {sub.func.id}() prints {len(printed)} headings "
                        f"({', '.join(map(repr, printed))}); each README section needs a function of its own, "
                        "called from main()"
                    )
                headings += [(heading, sub.func.id) for heading in printed]
        if len(headings) > 1:
            raise NotebookError(
                f"{self.script}: line {node.lineno} of main() runs {len(headings)} sections "
                f"({', '.join(repr(h) for h, _ in headings)}); give each its own statement"
            )
        return headings

    def ends_with_a_value(self, node):
        """Whether a statement is a bare call of a lesson function that returns something."""
        return (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id in self.functions
            and returns_a_value(self.functions[node.value.func.id])
        )

    def headings(self):
        return [heading for _, headings, _ in self.steps for heading, _ in headings]


# Matching a lesson to its README sections -------------------------------------------------


def section_cells(lesson, sections, headings_of_all_lessons):
    """([(section, code)], trailing code) for a lesson: each of its README sections with the
    statements of main() that run it (code None for the introduction of a ## section
    whose ### sections the lesson runs), and the statements after the last section. Raises
    NotebookError where the two disagree."""
    by_title = {}
    for index, section in enumerate(sections):
        by_title.setdefault(section["title"], []).append(index)
    matched = []  # (README index, code, last statement node)
    pending = []
    previous = -1
    for code, headings, node in lesson.steps:
        pending.append(code)
        if not headings:
            continue
        heading, function = headings[0]
        candidates = [index for index in by_title.get(heading, []) if index > previous]
        if not by_title.get(heading):
            raise NotebookError(
                f"{lesson.script}: {function}() prints the heading {heading!r}, but README.md has no "
                f"## or ### section with that title; rename one of the two so that they match"
            )
        if not candidates:
            raise NotebookError(
                f"{lesson.script}: main() runs {function}() ({heading!r}) after a section that README.md "
                "puts below it; main() must run the sections in README order"
            )
        previous = candidates[0]
        matched.append((previous, "\n".join(pending), node))
        pending = []
    if not matched:
        raise NotebookError(f"{lesson.script}: no statement of main() prints a README heading")
    trailing = "\n".join(pending)
    check_every_section_is_run(lesson, sections, [index for index, _, _ in matched], headings_of_all_lessons)

    cells = []
    seen_parents = set()
    for index, code, node in matched:
        section = sections[index]
        if section["level"] == 3:
            parent = max((i for i in range(index) if sections[i]["level"] == 2), default=None)
            if parent is not None and parent not in seen_parents and parent not in [i for i, _, _ in matched]:
                cells.append((sections[parent], None))  # the ## section's introduction
            seen_parents.add(parent)
        else:
            seen_parents.add(index)
        cells.append((section, code + (";" if lesson.ends_with_a_value(node) else "")))
    return cells, trailing


def check_every_section_is_run(lesson, sections, run, headings_of_all_lessons):
    """Raise NotebookError for a README section of this lesson that main() does not run:
    a ### section under a ## section the lesson prints, or one between two of the
    lesson's sections under the same ## section, unless another lesson prints it."""
    groups = {}
    parent = None
    for index, section in enumerate(sections):
        if section["level"] == 2:
            parent = index
        groups.setdefault(parent, []).append(index)
    for parent, members in groups.items():
        mine = [index for index in members if index in run]
        if not mine:
            continue
        children = [index for index in members if sections[index]["level"] == 3]
        if parent in run:
            span = children
        else:
            span = [index for index in children if mine[0] <= index <= mine[-1]]
        for index in span:
            title = sections[index]["title"]
            if index in run or title == EXERCISES_HEADING or title in headings_of_all_lessons - set(lesson.headings()):
                continue
            raise NotebookError(
                f"{lesson.script}: the README section {'#' * sections[index]['level']} {title} "
                f"(README.md line {sections[index]['line']}) has no statement in main(); add a "
                f'function that starts with lessonkit.heading("{title}") and call it from main()'
            )


# Exercises -----------------------------------------------------------------------------------


def load_selfcheck(root):
    """selfcheck.py of `root` as a fresh module, or None when there is none."""
    path = Path(root) / "selfcheck.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"_selfcheck_for_notebooks_{id(path)}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(Path(root)))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(Path(root)))
    return module


def exercise_cells(root, name):
    """(task in Markdown, stub source) of exercises/<name>.py: its docstring, and the
    stub function with the file's imports, less those only its __main__ block uses."""
    path = Path(root) / "exercises" / f"{name}.py"
    if not path.is_file():
        raise NotebookError(f"selfcheck.EXERCISES names {name!r}, but exercises/{name}.py does not exist")
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    function = module_functions(tree).get(name)
    if function is None:
        raise NotebookError(f"exercises/{name}.py has no function {name}()")
    def names_in(nodes):
        return {sub.id for node in nodes for sub in ast.walk(node) if isinstance(sub, ast.Name)}

    in_function = names_in([function])
    in_main_block = names_in(
        node for node in tree.body if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)
    )
    imports = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = {(alias.asname or alias.name).split(".")[0] for alias in node.names}
            if bound & in_function or not bound & in_main_block:  # not the ones only the __main__ block uses
                imports.append(ast.get_source_segment(source, node))
    lines = source.splitlines()
    first = min([function.lineno] + [decorator.lineno for decorator in function.decorator_list])
    stub = "\n".join(lines[first - 1 : function.end_lineno])
    task = docstring_markdown(ast.get_docstring(tree) or (ast.get_docstring(function) or "").split("\n\n")[0])
    code = "\n".join(imports) + ("\n\n\n" if imports else "") + stub
    return task, code


# The notebook -------------------------------------------------------------------------------


def setup_code(lesson):
    namespace = ", ".join(f"{key}={value}" for key, value in sorted(lesson.namespace.items()))
    return "\n".join(
        [
            "%matplotlib inline",
            "import importlib",
            "import sys",
            "from argparse import Namespace",
            "from pathlib import Path",
            "",
            'sys.path.insert(0, str(Path("..").resolve()))  # the lessons are in the folder above notebooks/',
            f'lesson = importlib.import_module("{lesson.stem}")',
            "globals().update({name: value for name, value in vars(lesson).items() if not name.startswith(\"_\")})",
            "",
            "# What the command line gives the script when it is run with no options:",
            f"args = Namespace({namespace})",
            lesson.figures_statement,
        ]
    )


def title_markdown(lesson, example):
    parts = [f"# {lesson.title}"]
    if lesson.description:
        parts.append(docstring_markdown(lesson.description))
    parts.append(
        f"This notebook runs the lesson `{lesson.script}` one README section at a time: each section's "
        "text, then the code that runs it, which prints what the script prints and draws its pictures "
        "below the cell. Run the cells from the top (the first code cell loads the lesson); the last "
        "lesson cell writes the pictures into `figures/`, as the script does.\n\n"
        f"To read the code behind a cell, run `??{example}` (or `%psource {example}`) in a new cell; "
        "every function of the lesson is available by its name."
    )
    parts.append(
        f"*Made from `{lesson.script}` and `README.md` by `make notebooks`: change those, not this file.*"
    )
    return "\n\n".join(parts)


def build_notebook(root, script, sections=None, headings_of_all_lessons=None, selfcheck=None):
    """The notebook for lesson `script` in repository folder `root`, as an nbformat node."""
    root = Path(root)
    lesson = Lesson(root / script)
    if sections is None:
        sections = readme_sections((root / "README.md").read_text(encoding="utf-8"))
    if headings_of_all_lessons is None:
        headings_of_all_lessons = set(lesson.headings())
    cells_plan, trailing = section_cells(lesson, sections, headings_of_all_lessons)

    cells = []

    def add(kind, source, tag):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cell = make(source)
        cell.id = f"{lesson.stem.replace('_', '-')}-{len(cells):02d}"
        cell.metadata = {"tags": [tag]}
        cells.append(cell)

    first_function = next(function for _, headings, _ in lesson.steps for _, function in headings)
    add("markdown", title_markdown(lesson, first_function), "title")
    add("code", setup_code(lesson), "setup")
    for section, code in cells_plan:
        add("markdown", markdown_for_notebook(section["text"]), "section")
        if code is not None:
            add("code", code, "section")
    if "interactive_playground" in lesson.functions:
        playground = lesson.functions["interactive_playground"]
        about = ast.get_docstring(playground) or ""
        add(
            "markdown",
            "## Playground\n\n"
            + about.split("\n\n")[0]
            + "\n\nThe controls need a running Jupyter kernel with widgets; where they do not show, call "
            "the function it drives with arguments of your own.",
            "playground",
        )
        add("code", "interactive_playground()" + (";" if returns_a_value(playground) else ""), "playground")
    add("markdown", "Last, as the script does, write every picture into `figures/` and list them:", "figures")
    add("code", (trailing + "\n" if trailing else "") + lesson.write_statement, "figures")

    if selfcheck is not None:
        missing = [name for name in selfcheck.EXERCISES if name not in selfcheck.LESSON]
        if missing:
            raise NotebookError(f"selfcheck.LESSON does not say which lesson {', '.join(missing)} belong(s) to")
        names = [name for name in selfcheck.EXERCISES if Path(selfcheck.LESSON[name]).stem == lesson.stem]
        if names:
            add(
                "markdown",
                "## Exercises\n\nWrite each function in the cell below its task, run that cell, then run "
                "the check under it: it says whether your function is correct and, if not, the smallest "
                "case it gets wrong. From a terminal in the repository folder, "
                "`.venv/bin/python exercises/NAME.py --hint` prints a hint (`--hint 2` the next one) and "
                "`--solution` a solution.",
                "exercise",
            )
            add("code", "import selfcheck", "exercise")
            for name in names:
                task, stub = exercise_cells(root, name)
                add("markdown", f"### Exercise: `{name}`\n\n{task}".strip(), "exercise")
                add("code", stub, "exercise")
                add("code", f'print(selfcheck.check("{name}", {name}))', "exercise")

    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return notebook


def lesson_scripts(root=ROOT):
    """The lesson scripts of `root`, in order: 0_1D.py, 1_2D.py, ..."""
    return sorted(path.name for path in Path(root).glob(LESSON_PATTERN))


def render_all(root=ROOT):
    """{notebook file name: notebook text} for every lesson in `root`."""
    root = Path(root)
    scripts = lesson_scripts(root)
    sections = readme_sections((root / "README.md").read_text(encoding="utf-8"))
    every_heading = set()
    for script in scripts:
        every_heading |= set(Lesson(root / script).headings())
    selfcheck = load_selfcheck(root)
    if selfcheck is not None:
        stems = {Path(script).stem for script in scripts}
        orphans = [name for name in selfcheck.EXERCISES if Path(selfcheck.LESSON.get(name, "")).stem not in stems]
        if orphans:
            raise NotebookError(f"selfcheck.LESSON names no lesson script for the exercise(s) {', '.join(orphans)}")
    return {
        Path(script).with_suffix(".ipynb").name: nbformat.writes(
            build_notebook(root, script, sections, every_heading, selfcheck)
        )
        + "\n"
        for script in scripts
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a notebook is out of date")
    args = parser.parse_args(argv)
    try:
        wanted = render_all(ROOT)
    except NotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    folder = ROOT / "notebooks"
    stale = sorted(set(path.name for path in folder.glob("[0-9]_*.ipynb")) - set(wanted)) if folder.is_dir() else []
    changed = [
        name
        for name, text in wanted.items()
        if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != text
    ]
    if args.check:
        for name in changed + stale:
            print(f"notebooks/{name} is out of date: run make notebooks")
        return 1 if changed or stale else 0
    folder.mkdir(exist_ok=True)
    for name in changed:
        (folder / name).write_text(wanted[name], encoding="utf-8", newline="\n")
    for name in stale:
        (folder / name).unlink()
    print(f"{len(wanted)} notebooks in notebooks/: {len(changed)} written, {len(stale)} removed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
