"""README.md is the lesson: its quoted output, numbers and pictures must match the scripts.

- A fenced block right after ``<!-- output: SCRIPT -->`` is an abridged copy of what
  SCRIPT prints: every line of it must appear in the real output, in the same order
  (a line ``...`` marks an omission).
- A number quoted in the prose is written as inline code (`615,440`, `(1, 8, 8, 1)`);
  every such value must be printed, as whole tokens, by the script of its section.
- Every image link resolves to a file, and every figure shown is one a script writes.
"""

import re

import pytest

from conftest import ROOT, run_script

README = (ROOT / "README.md").read_text(encoding="utf-8")
LESSONS = sorted(path.name for path in ROOT.glob("[0-9]_*.py"))
BENCHMARK = "benchmarks/bench_convolution.py"
SECTION_SCRIPT = {
    "1-D convolution with NumPy": "0_1D.py",
    "Image filter": "1_2D.py",
    "2-D convolution with SciPy": "1_2D.py",
    "Convolution in TensorFlow": "2_TensorFlow.py",
    "Convolution applied to an image": "3_image.py",
    "Convolution applied to a digit": "4_digit.py",
    "A CNN learns its own kernels": "5_cnn.py",
    "Inside a convolution layer": "6_layer.py",
    "Convolution over time": "7_sequence.py",
}

OUTPUT_BLOCK = re.compile(r"<!-- output: (?P<script>\S+) -->\s*\n```\w*\n(?P<body>.*?)\n```", re.S)
SAMPLE_BLOCK = re.compile(r"<!-- sample output: (?P<script>\S+) -->\s*\n```\w*\n(?P<body>.*?)\n```", re.S)
FENCED = re.compile(r"```.*?```", re.S)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
VALUE = re.compile(r"^[-+\d\[\]().,=x*/ ]*\d[-+\d\[\]().,=x*/ ]*$")
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


def normalise(text):
    """Collapse runs of spaces and the padding NumPy puts inside brackets."""
    text = re.sub(r"\s+", " ", text.strip())
    return re.sub(r"([\[(]) ", r"\1", text)


@pytest.fixture(scope="module")
def lesson_runs(tmp_path_factory):
    """Run every lesson once, headless, into one folder. Returns ({script: stdout}, out)."""
    out = tmp_path_factory.mktemp("readme figures")
    outputs = {}
    for script in LESSONS:
        process = run_script(script, "--out", out, cwd=tmp_path_factory.mktemp("cwd"))
        assert process.returncode == 0, process.stderr
        outputs[script] = process.stdout
    return outputs, out


def test_readme_quotes_output_of_every_lesson():
    quoted = {match["script"] for match in OUTPUT_BLOCK.finditer(README)}
    assert quoted == set(LESSONS)


def test_every_quoted_output_line_is_printed_by_its_script_in_order(lesson_runs):
    outputs, _ = lesson_runs
    for match in OUTPUT_BLOCK.finditer(README):
        printed = [normalise(line) for line in outputs[match["script"]].splitlines()]
        position = 0
        for line in match["body"].splitlines():
            wanted = normalise(line)
            if wanted in ("", "..."):
                continue
            try:
                position = printed.index(wanted, position) + 1
            except ValueError:
                pytest.fail(f"README quotes {line!r} from {match['script']}, which does not print it there")


def prose_values_by_section():
    """[(section heading, value)] for every value quoted as inline code in the prose."""
    values = []
    for section in re.split(r"^(?=## )", FENCED.sub("", README), flags=re.M):
        title = section.splitlines()[0].lstrip("# ").strip() if section.startswith("## ") else ""
        values += [(title, code) for code in INLINE_CODE.findall(section) if VALUE.match(code)]
    return values


def printed_as_a_whole(value, output):
    """Whether `value` appears in `output` as whole tokens, not inside a longer number."""
    pattern = r"(?<![\w.])" + re.escape(normalise(value)) + r"(?![\w.]|\.\d)"
    return re.search(pattern, normalise(output)) is not None


def test_every_value_quoted_in_the_prose_is_printed_by_its_sections_lesson(lesson_runs):
    outputs, _ = lesson_runs
    values = prose_values_by_section()
    assert len(values) >= 10
    missing = []
    for title, value in values:
        script = SECTION_SCRIPT.get(title)
        output = outputs[script] if script else "\n".join(outputs.values())
        if not printed_as_a_whole(value, output):
            missing.append((title, value))
    assert missing == []


def test_every_image_link_resolves_to_a_file_in_the_repository():
    links = IMAGE_LINK.findall(README)
    assert links
    for link in links:
        assert not re.match(r"\w+://", link), f"external image {link}"
        assert (ROOT / link).is_file(), f"{link} does not exist"


def test_every_figure_shown_is_written_by_a_script(lesson_runs, tmp_path):
    _, out = lesson_runs
    process = run_script(BENCHMARK, "--smoke", "--out", tmp_path, cwd=tmp_path)
    assert process.returncode == 0, process.stderr
    made = {path.name for path in out.iterdir()} | {path.name for path in tmp_path.iterdir()}
    shown = {link.rsplit("/", 1)[-1] for link in IMAGE_LINK.findall(README)}
    assert shown <= made, f"not made by any script: {sorted(shown - made)}"


def test_benchmark_sample_output_names_every_method():
    samples = [match["body"] for match in SAMPLE_BLOCK.finditer(README)]
    assert samples, "README has no sample benchmark output"
    text = "\n".join(samples)
    for method in ("scipy.signal.convolve2d", "scipy.signal.fftconvolve", "tf.nn.conv2d"):
        assert method in text


def test_headings_follow_the_lesson_order():
    headings = [line[3:].strip() for line in README.splitlines() if line.startswith("## ")]
    order = [
        "1-D convolution with NumPy",
        "Image filter",
        "2-D convolution with SciPy",
        "Convolution in TensorFlow",
        "Convolution applied to an image",
        "Convolution applied to a digit",
        "Three ideas behind convolutional networks",
        "A CNN learns its own kernels",
        "Inside a convolution layer",
        "Convolution over time",
        "Convolution or cross-correlation?",
        "Conventions and corner cases",
        "How fast is a convolution?",
    ]
    positions = [next(i for i, h in enumerate(headings) if h.startswith(title)) for title in order]
    assert positions == sorted(positions)


def test_readme_is_free_of_the_older_texts_mistakes():
    for wrong in ("10 - 3 + 1 = 9", "Reffer", "freature", "it's own", "from scipy import misc", "wget "):
        assert wrong not in README
