"""Tests for lessonkit.py, the plumbing the lessons share: the command line, clean
errors, figures written all at once, and TensorFlow's start-up notices kept quiet."""

import doctest
import io
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from PIL import Image

import lessonkit


def test_default_out_is_the_figures_folder_beside_the_scripts():
    args = lessonkit.parse_args("demo", [])
    assert args.out == lessonkit.ROOT / "figures"
    assert args.show is False


def test_image_option_exists_only_when_asked_for():
    default = lessonkit.data_path("bird.jpg")
    assert lessonkit.parse_args("demo", [], image=default).image == default
    assert lessonkit.parse_args("demo", ["--image", "a b.jpg"], image=default).image == Path("a b.jpg")
    with pytest.raises(lessonkit.LessonError, match="unrecognized arguments: --image"):
        lessonkit.parse_args("demo", ["--image", "x.jpg"])


def test_an_option_with_a_value_gives_its_string_or_none(capsys):
    options = {"--kernel": ("ROWS", "a kernel, rows separated by ';'")}
    assert lessonkit.parse_args("demo", [], options=options).kernel is None
    assert lessonkit.parse_args("demo", ["--kernel", "-1 0 1"], options=options).kernel == "-1 0 1"
    assert lessonkit.parse_args("demo", ["--kernel=-1,1"], options=options).kernel == "-1,1"
    with pytest.raises(lessonkit.LessonError, match="argument --kernel: expected one argument"):
        lessonkit.parse_args("demo", ["--kernel"], options=options)
    with pytest.raises(SystemExit):
        lessonkit.parse_args("demo", ["--help"], options=options)
    assert "--kernel ROWS" in capsys.readouterr().out


def test_a_bad_argument_becomes_one_clean_error_line_and_status_2(capsys):
    @lessonkit.lesson_main
    def main(argv=None):
        lessonkit.parse_args("demo", argv)
        return 0

    assert main(["--bogus"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: unrecognized arguments: --bogus (see --help)\n"


def test_heading_is_underlined_to_its_length(capsys):
    lessonkit.heading("Valid mode")
    assert capsys.readouterr().out == "\nValid mode\n----------\n"


def figures_for(out):
    return lessonkit.Figures(lessonkit.parse_args("demo", ["--out", str(out)]))


def test_figures_are_written_only_by_write_and_no_partial_file_is_left(tmp_path, capsys):
    out = tmp_path / "new folder" / "figs"
    figures = figures_for(out)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    figures.add("line", fig)
    figures.add_animation("blink", [Image.new("RGB", (4, 4), c) for c in ("red", "blue")])
    assert not out.exists()
    assert figures.write() == 0
    assert sorted(p.name for p in out.iterdir()) == ["blink.gif", "line.png"]
    assert Image.open(out / "line.png").format == "PNG"
    assert Image.open(out / "blink.gif").n_frames == 2
    assert "2 written to" in capsys.readouterr().out


def test_an_out_folder_that_cannot_be_created_is_refused_when_the_arguments_are_read(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    with pytest.raises(lessonkit.LessonError, match="a file is not a folder"):
        lessonkit.parse_args("demo", ["--out", str(blocker / "figs")])
    with pytest.raises(lessonkit.LessonError, match="it is a file"):
        lessonkit.parse_args("demo", ["--out", str(blocker)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file"]


def test_a_figure_that_cannot_be_written_stops_all_of_them(tmp_path):
    out = tmp_path / "figs"
    (out / "second.png").mkdir(parents=True)
    figures = figures_for(out)
    for name in ("first", "second"):
        fig, _ = plt.subplots()
        figures.add(name, fig)
    with pytest.raises(lessonkit.LessonError, match="second.png: something other than a file"):
        figures.write()
    assert sorted(p.name for p in out.iterdir()) == ["second.png"]
    plt.close("all")


def test_a_failure_while_writing_leaves_no_figure_and_no_temporary_file(tmp_path, monkeypatch):
    out = tmp_path / "figs"
    figures = figures_for(out)
    for name in ("first", "second"):
        fig, _ = plt.subplots()
        figures.add(name, fig)
    write_bytes = Path.write_bytes
    written = []

    def full_disk(path, data):
        if written:
            raise OSError(28, "No space left on device")
        written.append(path)
        return write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(lessonkit.LessonError, match="No space left on device"):
        figures.write()
    assert len(written) == 1
    assert list(out.iterdir()) == []


def test_a_figure_is_drawn_when_added_so_a_later_draw_cannot_change_its_file(tmp_path):
    figure, axes = plt.subplots()
    axes.set_title("as added")
    figures = figures_for(tmp_path)
    figures.add("drawn", figure)
    axes.set_title("changed later")
    figures.write()
    reference = io.BytesIO()
    axes.set_title("as added")
    figure.savefig(reference, format="png", dpi=100, metadata={"Software": None})
    assert (tmp_path / "drawn.png").read_bytes() == reference.getvalue()


def test_output_goes_quiet_once_its_reader_has_gone():
    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError

        def flush(self):
            raise BrokenPipeError

    stdout = lessonkit._ClosedPipeTolerant(ClosedPipe())
    assert stdout.write("lost") == 4
    stdout.flush()
    assert stdout.write("also lost") == 9


def test_the_same_figure_gives_the_same_bytes_every_time(tmp_path):
    for folder in ("one", "two"):
        figures = figures_for(tmp_path / folder)
        fig, ax = plt.subplots()
        ax.imshow([[0, 1], [1, 0]])
        figures.add("grid", fig)
        figures.write()
    assert (tmp_path / "one" / "grid.png").read_bytes() == (tmp_path / "two" / "grid.png").read_bytes()


def test_docstring_examples_hold():
    assert doctest.testmod(lessonkit).failed == 0


@pytest.mark.parametrize(
    "severity, message, noise",
    [
        ("I", "oneDNN custom operations are on.", True),
        ("W", "something only worth a warning", True),
        ("E", "failed call to cuInit: INTERNAL: CUDA error", True),
        ("I", "Could not find cuda drivers on your machine, GPU will not be used.", True),
        ("E", "OOM when allocating tensor", False),
        ("F", "Check failed", False),
    ],
)
def test_start_up_noise_is_what_tf_cpp_min_log_level_2_hides_plus_no_gpu_notices(severity, message, noise):
    assert lessonkit.is_start_up_noise(severity, message, 2) is noise


def test_filter_drops_native_noise_and_passes_real_errors_on(monkeypatch, capfd):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    written = [
        lessonkit.ABSL_BANNER,
        "I0000 00:00:1795533885.099406    4402 cpu_feature_guard.cc:227] This binary is optimized.",
        "To enable the following instructions: AVX2 FMA, rebuild TensorFlow.",
        "E0000 00:00:1795533892.243675    4408 cuda_platform.cc:52] failed call to cuInit: UNKNOWN",
        "/some/module.py:3: UserWarning: a Python warning",
        "E0000 00:00:1795533892.243675    4408 some_op.cc:12] a real error",
        "To enable the following instructions: kept, it follows a kept line",
    ]
    with lessonkit.tensorflow_start_up_quiet():
        os.write(2, "".join(line + "\n" for line in written).encode())
    assert capfd.readouterr().err.splitlines() == written[4:]


