"""The contract every lesson script keeps, checked for every one of them: clean errors,
--help, an import that does nothing, docstring examples that hold, and output that
survives a reader closing the pipe early."""

import doctest
import hashlib
import importlib
import subprocess
import sys

import pytest

from conftest import ROOT, headless_env, run_script

LESSONS = sorted(path.stem for path in ROOT.glob("[0-9]_*.py"))


def figure_fingerprints():
    """{file name: sha256} of everything in the repository's figures/ folder."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in (ROOT / "figures").iterdir()}


def assert_one_error_line(process):
    assert process.returncode == 2
    lines = process.stderr.splitlines()
    assert len(lines) == 1, process.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in process.stderr


@pytest.mark.parametrize("lesson", LESSONS)
def test_unknown_argument_gives_one_error_line_and_status_2(lesson, tmp_path):
    process = run_script(f"{lesson}.py", "--bogus", cwd=tmp_path)
    assert_one_error_line(process)
    assert "--bogus" in process.stderr
    assert process.stdout == ""


@pytest.mark.parametrize("lesson", LESSONS)
def test_out_folder_under_a_file_is_refused_before_anything_is_printed(lesson, tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    process = run_script(f"{lesson}.py", "--out", blocker / "figures", cwd=tmp_path)
    assert_one_error_line(process)
    assert str(blocker) in process.stderr
    assert process.stdout == ""
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("lesson", LESSONS)
def test_empty_out_path_is_refused(lesson, tmp_path):
    process = run_script(f"{lesson}.py", "--out", "", cwd=tmp_path)
    assert_one_error_line(process)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("lesson", LESSONS)
def test_help_describes_the_lesson_and_its_options(lesson, tmp_path):
    process = run_script(f"{lesson}.py", "--help", cwd=tmp_path)
    assert process.returncode == 0
    title = importlib.import_module(lesson).__doc__.splitlines()[0]
    assert title in process.stdout
    for option in ("--out DIR", "--show"):
        assert option in process.stdout
    takes_an_image = lesson in ("3_image", "4_digit", "5_cnn")
    assert ("--image PATH" in process.stdout) == takes_an_image


@pytest.mark.parametrize("lesson", LESSONS)
def test_importing_prints_nothing_and_writes_nothing(lesson, tmp_path):
    before = figure_fingerprints()
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import importlib; importlib.import_module({lesson!r})"
    process = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=headless_env(), capture_output=True, text=True, timeout=120
    )
    assert process.returncode == 0, process.stderr
    assert (process.stdout, process.stderr) == ("", "")
    assert list(tmp_path.iterdir()) == []
    assert figure_fingerprints() == before


@pytest.mark.parametrize("lesson", LESSONS)
def test_docstring_examples_hold(lesson):
    module = importlib.import_module(lesson)
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_reader_closing_the_pipe_early_does_not_stop_the_lesson(lesson, tmp_path):
    out = tmp_path / "figs"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / f"{lesson}.py"), "--out", str(out)],
        cwd=tmp_path,
        env=headless_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=300) == 0, stderr
    assert stderr == ""
    assert any(out.iterdir())
