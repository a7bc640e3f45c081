"""`.gto` read as GTO 1.10.1 reads it (gto-spec.md §4.1, gto-interop.md Part D)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GitRepo

from stagetag.config import CONFIG_FILE, RegistryConfig, load_config
from stagetag.errors import StagetagError

NO_ENV: dict[str, str] = {}


def write_config(root: Path, text: str) -> Path:
    path = root / CONFIG_FILE
    path.write_text(text, encoding="utf-8")
    return path


def config_error(root: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(StagetagError) as err:
        load_config(root, environ=NO_ENV if environ is None else environ)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_no_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path, environ=NO_ENV)
    assert config == RegistryConfig(stages=None, types=None, index="artifacts.yaml")


@pytest.mark.parametrize("text", ["", "\n", "null\n", "# only a comment\n", "stages:\n"])
def test_empty_file_or_null_means_no_restriction(tmp_path: Path, text: str) -> None:
    write_config(tmp_path, text)
    assert load_config(tmp_path, environ=NO_ENV).stages is None


def test_stages(tmp_path: Path) -> None:
    write_config(tmp_path, "stages: [dev, prod]\n")
    assert load_config(tmp_path, environ=NO_ENV).stages == ("dev", "prod")


def test_empty_stage_list_restricts_to_nothing(tmp_path: Path) -> None:
    """`stages: []` is not the same as no `stages`: every stage is refused."""
    write_config(tmp_path, "stages: []\n")
    assert load_config(tmp_path, environ=NO_ENV).stages == ()


@pytest.mark.parametrize("key", ["STAGES", "Stages", "stages"])
def test_keys_are_case_insensitive(tmp_path: Path, key: str) -> None:
    write_config(tmp_path, f"{key}: [dev, prod]\nINDEX: custom.yaml\n")
    config = load_config(tmp_path, environ=NO_ENV)
    assert config.stages == ("dev", "prod")
    assert config.index == "custom.yaml"


def test_types_and_index(tmp_path: Path) -> None:
    write_config(tmp_path, "types: [model, dataset]\nindex: custom.yaml\n")
    config = load_config(tmp_path, environ=NO_ENV)
    assert config.types == ("model", "dataset")
    assert config.index == "custom.yaml"


def test_every_gto_key_is_accepted(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "index: a.yaml\nconfig_file_name: .gto\nlog_level: DEBUG\ndebug: true\nemojis: false\n"
        "types: null\nstages: [dev]\nenrichments: []\nautoload_enrichments: false\n",
    )
    assert load_config(tmp_path, environ=NO_ENV) == RegistryConfig(("dev",), None, "a.yaml")


def test_reads_the_working_tree_not_head(repo: GitRepo) -> None:
    write_config(repo.path, "stages: [dev]\n")
    repo.commit("base")
    write_config(repo.path, "stages: [prod]\n")  # uncommitted edit
    assert load_config(repo.path, environ=NO_ENV).stages == ("prod",)


def test_string_stages_is_an_error_naming_file_and_key(tmp_path: Path) -> None:
    path = write_config(tmp_path, "stages: dev\n")
    message = config_error(tmp_path)
    assert str(path) in message
    assert "stages" in message


def test_unknown_key_is_an_error_naming_file_and_key(tmp_path: Path) -> None:
    path = write_config(tmp_path, "stages: [dev]\nfoo: bar\n")
    message = config_error(tmp_path)
    assert str(path) in message
    assert "'foo'" in message


@pytest.mark.parametrize(
    "text",
    [
        'stages: [dev, "Bad Stage"]\n',
        "stages: [dev, _x]\n",
        "stages: [1]\n",
        "types: [a, 'b c']\n",
        "stages: [[dev]]\n",
    ],
)
def test_invalid_names_are_errors(tmp_path: Path, text: str) -> None:
    path = write_config(tmp_path, text)
    assert str(path) in config_error(tmp_path)


def test_invalid_stage_name_is_named(tmp_path: Path) -> None:
    write_config(tmp_path, 'stages: [dev, "Bad Stage"]\n')
    message = config_error(tmp_path)
    assert "'Bad Stage'" in message
    assert "stages" in message


@pytest.mark.parametrize(
    "text",
    ["index: 5\n", "log_level: 5\n", "types: model\n", "enrichments: {}\n", "debug: [1]\n"],
)
def test_wrong_types_are_errors(tmp_path: Path, text: str) -> None:
    path = write_config(tmp_path, text)
    message = config_error(tmp_path)
    assert str(path) in message
    assert text.split(":")[0] in message


@pytest.mark.parametrize("text", ["- dev\n- prod\n", "just a string\n", "stages: [dev\n"])
def test_not_a_mapping_or_not_yaml_is_an_error(tmp_path: Path, text: str) -> None:
    path = write_config(tmp_path, text)
    assert str(path) in config_error(tmp_path)


def test_undecodable_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / CONFIG_FILE
    path.write_bytes(b"stages: [d\xffv]\n")
    assert str(path) in config_error(tmp_path)


# --------------------------------------------------------------------------------------------
# GTO_* environment overrides


def test_env_overrides_file(tmp_path: Path) -> None:
    write_config(tmp_path, "stages: [dev]\n")
    config = load_config(tmp_path, environ={"GTO_STAGES": '["qa"]'})
    assert config.stages == ("qa",)


def test_env_without_file(tmp_path: Path) -> None:
    assert load_config(tmp_path, environ={"GTO_STAGES": "[]"}).stages == ()


def test_env_names_are_case_insensitive(tmp_path: Path) -> None:
    assert load_config(tmp_path, environ={"gto_stages": '["qa"]'}).stages == ("qa",)


def test_env_list_must_be_json(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"GTO_STAGES": "qa"})
    assert "GTO_STAGES" in message
    assert "JSON" in message


def test_env_invalid_stage_name(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"GTO_STAGES": '["Bad Stage"]'})
    assert "GTO_STAGES" in message
    assert "'Bad Stage'" in message


def test_env_wrong_type_names_the_variable(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"GTO_STAGES": '"qa"'})
    assert "GTO_STAGES" in message


@pytest.mark.parametrize(("value", "index"), [("x.yaml", "x.yaml"), ('"x.yaml"', '"x.yaml"')])
def test_env_index_is_a_plain_string(tmp_path: Path, value: str, index: str) -> None:
    """String settings are taken verbatim, not decoded as JSON (as pydantic-settings does)."""
    write_config(tmp_path, "index: file.yaml\n")
    assert load_config(tmp_path, environ={"GTO_INDEX": value}).index == index


def test_unknown_env_variables_are_ignored(tmp_path: Path) -> None:
    config = load_config(tmp_path, environ={"GTO_FOO": "x", "OTHER": "y", "GTO_LOG_LEVEL": "INFO"})
    assert config == RegistryConfig()


def test_environ_defaults_to_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GTO_STAGES", '["qa"]')
    assert load_config(tmp_path).stages == ("qa",)


# --------------------------------------------------------------------------------------------
# Divergences from GTO 1.10.1 found while writing these tests (checked with the real gto).


def test_yaml_1_2_words_are_stage_names(tmp_path: Path) -> None:
    write_config(tmp_path, "stages: [dev, off, yes]\n")
    assert load_config(tmp_path, environ=NO_ENV).stages == ("dev", "off", "yes")


@pytest.mark.parametrize(
    ("text", "environ"),
    [
        ("", {"GTO_EMOJIS": "False"}),
        ("", {"GTO_DEBUG": "1"}),
        ("", {"GTO_EMOJIS": "no"}),
        ("debug: 1\n", {}),
        ("debug: 'true'\n", {}),
    ],
)
def test_booleans_are_coerced_like_pydantic(
    tmp_path: Path, text: str, environ: dict[str, str]
) -> None:
    write_config(tmp_path, text)
    assert load_config(tmp_path, environ=environ) == RegistryConfig()


def test_env_null_falls_through_to_file(tmp_path: Path) -> None:
    write_config(tmp_path, "stages: [dev]\n")
    assert load_config(tmp_path, environ={"GTO_STAGES": "null"}).stages == ("dev",)
