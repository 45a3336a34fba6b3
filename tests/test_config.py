"""Configuration lookup and validation, and file discovery, on real files under tmp_path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jaxlint.config import (
    ConfigError,
    ConfigResolver,
    Overrides,
    load_config_file,
    settings_from_table,
)
from jaxlint.discovery import GlobSet, discover, display_path
from jaxlint.settings import Settings


def write(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- [tool.jaxlint] tables ----------------------------------------------------------------------


def test_settings_from_table_reads_every_key() -> None:
    settings = settings_from_table(
        {
            "select": ["JX1"],
            "ignore": ["JX102"],
            "extend-select": ["JX301"],
            "exclude": ["legacy/", "*_pb2.py"],
            "per-file-ignores": {"tests/*": ["JX2"]},
            "extend-transforms": ["my_jit", "mylib.compile"],
            "static-names": ["config", "n_envs"],
        }
    )
    assert settings == Settings(
        select=("JX1",),
        ignore=("JX102",),
        extend_select=("JX301",),
        exclude=("legacy/", "*_pb2.py"),
        per_file_ignores={"tests/*": ("JX2",)},
        extend_transforms=("my_jit", "mylib.compile"),
        static_names=("config", "n_envs"),
    )
    assert settings_from_table({}) == Settings()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"selct": ["JX1"]}, "unknown key 'selct'"),
        ({"extend_select": ["JX1"]}, "unknown key 'extend_select'"),
        ({"select": "JX1"}, "select must be a list of strings"),
        ({"exclude": [1]}, "exclude must be a list of strings"),
        ({"select": ["JX9"]}, "select: unknown rule selector 'JX9'"),
        ({"per-file-ignores": ["a"]}, "per-file-ignores must be a table"),
        ({"per-file-ignores": {"a.py": "JX1"}}, "per-file-ignores 'a.py' must be a list"),
        ({"per-file-ignores": {"a.py": ["XX1"]}}, "unknown rule selector 'XX1'"),
        ({"static-names": {"a": 1}}, "static-names must be a list of strings"),
    ],
)
def test_settings_from_table_rejects(table: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        settings_from_table(table)
    assert "\n" not in str(info.value)


# --- finding the configuration ------------------------------------------------------------------


def test_nearest_pyproject_with_a_jaxlint_table_wins(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.jaxlint]\nselect = ["JX1"]\n')
    write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "sub"\n')  # no table: skipped
    write(tmp_path / "sub" / "inner" / "pyproject.toml", '[tool.jaxlint]\nselect = ["JX2"]\n')
    resolver = ConfigResolver(tmp_path)
    top = resolver.for_directory(tmp_path / "sub" / "deep")
    assert top.root == tmp_path and top.settings.select == ("JX1",)
    inner = resolver.for_directory(tmp_path / "sub" / "inner" / "pkg")
    assert inner.root == tmp_path / "sub" / "inner" and inner.settings.select == ("JX2",)
    assert resolver.for_directory(tmp_path / "sub") is top  # read once, shared


def test_without_a_config_above_the_files_the_current_directory_decides(tmp_path: Path) -> None:
    write(tmp_path / "project" / "pyproject.toml", '[tool.jaxlint]\nignore = ["JX3"]\n')
    (tmp_path / "elsewhere").mkdir()
    resolver = ConfigResolver(tmp_path / "project")
    assert resolver.for_directory(tmp_path / "elsewhere").settings.ignore == ("JX3",)
    assert ConfigResolver(tmp_path / "elsewhere").for_directory(tmp_path).settings == Settings()


def test_bad_pyproject_is_a_one_line_error(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.jaxlint]\nselect = [\n")
    with pytest.raises(ConfigError) as info:
        ConfigResolver(tmp_path).for_directory(tmp_path)
    assert str(info.value).startswith("pyproject.toml: invalid TOML: ")
    assert "\n" not in str(info.value)

    write(tmp_path / "pyproject.toml", '[tool.jaxlint]\nselect = ["JX1"]\nwhatever = 1\n')
    with pytest.raises(
        ConfigError, match=r"^pyproject.toml: \[tool.jaxlint\] unknown key 'whatever'"
    ):
        ConfigResolver(tmp_path).for_directory(tmp_path)


def test_config_file_option(tmp_path: Path) -> None:
    # A pyproject.toml given with --config is used for every file, its patterns anchored at the cwd.
    given = write(tmp_path / "conf" / "pyproject.toml", '[tool.jaxlint]\nselect = ["JX5"]\n')
    write(tmp_path / "pyproject.toml", '[tool.jaxlint]\nselect = ["JX1"]\n')
    resolver = ConfigResolver(tmp_path, given)
    config = resolver.for_directory(tmp_path / "anything")
    assert config.settings.select == ("JX5",) and config.root == tmp_path
    # Any other TOML file holds the keys at top level.
    plain = write(tmp_path / "jaxlint.toml", 'ignore = ["JX6"]\n')
    assert load_config_file(plain, tmp_path).settings.ignore == ("JX6",)
    with pytest.raises(ConfigError, match=r"^jaxlint\.toml: unknown key \'tool2\'"):
        load_config_file(write(tmp_path / "jaxlint.toml", "tool2 = 1\n"), tmp_path)
    with pytest.raises(ConfigError, match=r"^x/pyproject\.toml: no \[tool\.jaxlint\] table$"):
        load_config_file(write(tmp_path / "x" / "pyproject.toml", "[tool.ruff]\n"), tmp_path)
    with pytest.raises(ConfigError, match=r"^missing\.toml: config file not found$"):
        load_config_file(tmp_path / "missing.toml", tmp_path)


def test_overrides_follow_ruff() -> None:
    configured = Settings(select=("JX1",), ignore=("JX102",), extend_select=("JX3",))
    assert Overrides().apply(configured) == configured
    extended = Overrides(ignore=("JX101",), extend_select=("JX4",)).apply(configured)
    assert extended.select == ("JX1",)
    assert extended.ignore == ("JX102", "JX101")
    assert extended.extend_select == ("JX3", "JX4")
    # --select replaces select and extend-select; the configured ignore still holds.
    replaced = Overrides(select=("JX2",)).apply(configured)
    assert (replaced.select, replaced.ignore, replaced.extend_select) == (("JX2",), ("JX102",), ())


# --- discovery ----------------------------------------------------------------------------------


def names(paths: list[str], cwd: Path, config_file: Path | None = None) -> list[str]:
    found = discover(paths, ConfigResolver(cwd, config_file), cwd)
    return [f.display for f in found.files]


def test_directories_skip_what_ruff_skips(tmp_path: Path) -> None:
    for rel in [
        "a.py",
        "stubs/b.pyi",
        "pkg/c.py",
        "pkg/notes.txt",
        ".hidden/d.py",
        ".git/e.py",
        "pkg/__pycache__/f.py",
        ".venv/g.py",
        "venv/h.py",
        "myenv/lib/i.py",
        "build/j.py",
        "dist/k.py",
        "node_modules/l.py",
        "pkg/.tox/m.py",
    ]:
        write(tmp_path / rel)
    write(tmp_path / "myenv" / "pyvenv.cfg", "home = /usr/bin\n")
    assert names([], tmp_path) == ["a.py", "pkg/c.py", "stubs/b.pyi"]
    # A skipped directory named on the command line is checked, like ruff does.
    assert names(["build"], tmp_path) == ["build/j.py"]


def test_explicit_files_are_checked_whatever_their_name(tmp_path: Path) -> None:
    write(tmp_path / "script")
    write(tmp_path / ".venv" / "x.py")
    assert names(["script", ".venv/x.py", "./script"], tmp_path) == ["script", ".venv/x.py"]


def test_exclude_applies_to_walks_and_to_named_files(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.jaxlint]\nexclude = ["legacy", "gen/*_pb2.py"]\n')
    for rel in ["src/a.py", "legacy/b.py", "src/legacy/c.py", "gen/x_pb2.py", "gen/y.py"]:
        write(tmp_path / rel)
    assert names([], tmp_path) == ["gen/y.py", "src/a.py"]
    assert names(["legacy/b.py", "src/legacy", "gen/x_pb2.py", "src/a.py"], tmp_path) == [
        "src/a.py"
    ]


def test_nested_config_excludes_only_below_it(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.jaxlint]\n")
    write(tmp_path / "sub" / "pyproject.toml", '[tool.jaxlint]\nexclude = ["skip.py"]\n')
    for rel in ["skip.py", "sub/skip.py", "sub/keep.py"]:
        write(tmp_path / rel)
    found = discover([], ConfigResolver(tmp_path), tmp_path)
    assert [f.display for f in found.files] == ["skip.py", "sub/keep.py"]
    assert found.files[1].config.root == tmp_path / "sub"


def test_missing_paths_are_errors_and_the_rest_still_runs(tmp_path: Path) -> None:
    write(tmp_path / "a.py")
    found = discover(["nope.py", "a.py"], ConfigResolver(tmp_path), tmp_path)
    assert found.errors == ["nope.py: no such file or directory"]
    assert [f.display for f in found.files] == ["a.py"]


def test_display_paths(tmp_path: Path) -> None:
    cwd = tmp_path / "here"
    cwd.mkdir()
    assert display_path(cwd / "a.py", cwd) == "a.py"
    assert display_path(Path("../x/b.py"), cwd) == "../x/b.py"  # not under the cwd: as given
    assert display_path(tmp_path / "herex" / "c.py", cwd) == str(tmp_path / "herex" / "c.py")


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.py", "/r/a/b.py", True),  # the file name matches
        ("a/*.py", "/r/a/b/c.py", True),  # "*" crosses "/" (globset defaults, as ruff)
        ("a/**/c.py", "/r/a/c.py", True),
        ("a/**/c.py", "/r/a/x/y/c.py", True),
        ("b/*.py", "/r/a/b/c.py", False),  # anchored at the root
        ("{gen,out}/*.py", "/r/out/x.py", True),
        ("[!a]*.py", "/r/a.py", False),
        ("[!a]*.py", "/r/b.py", True),
        ("file?.py", "/r/file1.py", True),
        ("/abs/*.py", "/abs/x.py", True),
    ],
)
def test_glob_semantics(pattern: str, path: str, expected: bool) -> None:
    assert GlobSet((pattern,), Path("/r")).matches(path) is expected
