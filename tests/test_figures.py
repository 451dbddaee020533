"""Every picture in figures/ fits the column the README shows it in, so that nothing in it is
shrunk below a readable size, and every animation holds its finished result."""

import pytest
from PIL import Image

import lessonkit
from conftest import ROOT, shown_widths

FIGURES = sorted((ROOT / "figures").glob("*.png")) + sorted((ROOT / "figures").glob("*.gif"))


@pytest.mark.parametrize("path", FIGURES, ids=lambda path: path.name)
def test_each_picture_is_no_wider_than_the_readme_column_it_is_shown_in(path):
    column = shown_widths().get(path.name, lessonkit.README_WIDTH)
    with Image.open(path) as picture:
        assert picture.width <= column, f"{path.name} is {picture.width} px wide, shown in {column} px"


@pytest.mark.parametrize("path", sorted((ROOT / "figures").glob("*.gif")), ids=lambda path: path.name)
def test_each_animation_holds_its_last_frame(path):
    with Image.open(path) as animation:
        animation.seek(animation.n_frames - 1)
        assert animation.info["duration"] >= lessonkit.HOLD_LAST_FRAME_MS


def test_at_most_two_animations_share_a_row_of_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for line in readme.splitlines():
        if line.lstrip().startswith("|"):
            assert line.count(".gif)") <= 2, line
