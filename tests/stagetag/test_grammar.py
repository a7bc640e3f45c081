"""The GTO tag grammar: parsing and formatting every tag form, and validation.

Expected values were checked against GTO 1.10.1 (`gto.constants.tag_re`, `gto register`), see
gto-spec.md §1 and gto-interop.md Part C.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagetag.errors import StagetagError
from stagetag.grammar import (
    FULLNAME_RE,
    NAME_RE,
    VERSION_RE,
    Action,
    ParsedTag,
    Shortcut,
    check_artifact,
    check_name,
    check_version,
    format_tag,
    is_hexsha,
    name_to_tag,
    parse_shortcut,
    parse_tag,
    ref_name_problem,
    tag_to_name,
)

A = Action

# --------------------------------------------------------------------------------------------
# parse_tag


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("m@v1.0.0", ParsedTag("m", A.REGISTER, version="v1.0.0")),
        ("m@v1.0.0#1", ParsedTag("m", A.REGISTER, version="v1.0.0", counter=1)),
        ("m@v1.0.0!", ParsedTag("m", A.DEREGISTER, version="v1.0.0")),
        ("m@v1.0.0!#7", ParsedTag("m", A.DEREGISTER, version="v1.0.0", counter=7)),
        ("m#prod", ParsedTag("m", A.ASSIGN, stage="prod")),
        ("m#prod#3", ParsedTag("m", A.ASSIGN, stage="prod", counter=3)),
        ("m#prod!", ParsedTag("m", A.UNASSIGN, stage="prod")),
        ("m#prod!#3", ParsedTag("m", A.UNASSIGN, stage="prod", counter=3)),
        ("m@deprecated", ParsedTag("m", A.DEPRECATE)),
        ("m@deprecated#43", ParsedTag("m", A.DEPRECATE, counter=43)),
        ("m@created", ParsedTag("m", A.CREATE)),
        ("m@created#2", ParsedTag("m", A.CREATE, counter=2)),
        # legacy pre-1.x counter: 1.x reads it as a simple assignment of stage `prod-5`
        ("rf#prod-5", ParsedTag("rf", A.ASSIGN, stage="prod-5")),
        ("m#Prod#1", ParsedTag("m", A.ASSIGN, stage="Prod", counter=1)),
        ("m#team/prod#2", ParsedTag("m", A.ASSIGN, stage="team/prod", counter=2)),
        ("a#b", ParsedTag("a", A.ASSIGN, stage="b")),
        ("m#prod#0", ParsedTag("m", A.ASSIGN, stage="prod", counter=0)),
        ("m#prod#007", ParsedTag("m", A.ASSIGN, stage="prod", counter=7)),
        # `dir:name` is written `dir=name` in tags
        ("path/to=model@v0.0.1", ParsedTag("path/to:model", A.REGISTER, version="v0.0.1")),
        ("dir/sub=name#prod#4", ParsedTag("dir/sub:name", A.ASSIGN, stage="prod", counter=4)),
        (
            "Some/Dir_1.x=Sub/Model_A@v0.0.1#1",
            ParsedTag("Some/Dir_1.x:Sub/Model_A", A.REGISTER, version="v0.0.1", counter=1),
        ),
        ("dir/=m@v0.0.1", ParsedTag("dir/:m", A.REGISTER, version="v0.0.1")),
        ("x.y=m@deprecated", ParsedTag("x.y:m", A.DEPRECATE)),
        ("a/dvc.yaml=m#dev!#9", ParsedTag("a/dvc.yaml:m", A.UNASSIGN, stage="dev", counter=9)),
        # prerelease and build parts
        ("m@v1.0.0-rc.1", ParsedTag("m", A.REGISTER, version="v1.0.0-rc.1")),
        ("m@v1.0.0+build.5", ParsedTag("m", A.REGISTER, version="v1.0.0+build.5")),
        ("m@v1.0.0-rc.1+b.2#3", ParsedTag("m", A.REGISTER, version="v1.0.0-rc.1+b.2", counter=3)),
        ("m@v1.0.0-beta.-1!", ParsedTag("m", A.DEREGISTER, version="v1.0.0-beta.-1")),
        ("m@v10.20.30-alpha-1.0a", ParsedTag("m", A.REGISTER, version="v10.20.30-alpha-1.0a")),
        # a full ref name is accepted too
        ("refs/tags/m#prod#3", ParsedTag("m", A.ASSIGN, stage="prod", counter=3)),
        ("refs/tags/d=m@v1.2.3", ParsedTag("d:m", A.REGISTER, version="v1.2.3")),
    ],
)
def test_parse_tag(tag: str, expected: ParsedTag) -> None:
    assert parse_tag(tag) == expected


@pytest.mark.parametrize(
    "tag",
    [
        "m@vfoo#3",
        "m@vfoo",
        "m@v1.0",
        "m@V1.0.0",
        "m@1.0.0",
        "m@v01.0.0",
        "m@v1.0.0-01",
        "m@v1.0.0-rc_1",
        "m@v1.0.0+",
        "release-1.0",
        "v1.0.0",
        "m",
        "m#prod#3!",  # the cancel marker comes before the counter, never after
        "m#prod!!",
        "m#prod#",
        "m#prod#-1",
        "m#prod#x",
        "m#prod#1#2",
        "m@v1.0.0\n",  # GTO's `$` would allow this; a newline must never ride along
        "m#prod\n",
        "m@deprecated\n",
        "m@deprecated!",
        "m@created!",
        "m@latest",
        "m@greatest",
        "_m@v1.0.0",
        "m_@v1.0.0",
        "m.x@v1.0.0",
        "a:b@v1.0.0",  # tags use `=`, not `:`
        "a=b=c@v1.0.0",
        "=m@v1.0.0",
        "d=@v1.0.0",
        "m#_prod",
        "m#prod_",
        "m#pr.od",
        "m#",
        "@v1.0.0",
        "#prod",
        "ü@v1.0.0",
        "m@v1.0.0 ",
        " m@v1.0.0",
        "",
    ],
)
def test_parse_tag_rejects_non_gto_names(tag: str) -> None:
    assert parse_tag(tag) is None


# --------------------------------------------------------------------------------------------
# format_tag


@pytest.mark.parametrize(
    ("action", "kwargs", "simple", "with_counter"),
    [
        (A.REGISTER, {"version": "v1.2.3"}, "m@v1.2.3", "m@v1.2.3#5"),
        (A.DEREGISTER, {"version": "v1.2.3"}, "m@v1.2.3!", "m@v1.2.3!#5"),
        (A.ASSIGN, {"stage": "prod"}, "m#prod", "m#prod#5"),
        (A.UNASSIGN, {"stage": "prod"}, "m#prod!", "m#prod!#5"),
        (A.DEPRECATE, {}, "m@deprecated", "m@deprecated#5"),
    ],
)
def test_format_tag(action: Action, kwargs: dict[str, str], simple: str, with_counter: str) -> None:
    assert format_tag(action, "m", **kwargs) == simple
    assert format_tag(action, "m", **kwargs, counter=5) == with_counter


def test_format_tag_writes_dir_with_equals() -> None:
    tag = format_tag(A.REGISTER, "Some/Dir_1.x:Sub/Model_A", version="v0.0.1", counter=1)
    assert tag == "Some/Dir_1.x=Sub/Model_A@v0.0.1#1"
    assert format_tag(A.ASSIGN, "path/to:model", stage="prod") == "path/to=model#prod"


def test_format_tag_counter_zero_is_not_simple() -> None:
    assert format_tag(A.ASSIGN, "m", stage="prod", counter=0) == "m#prod#0"


def test_name_tag_conversions() -> None:
    assert name_to_tag("a/b:c") == "a/b=c"
    assert tag_to_name("a/b=c") == "a/b:c"
    assert name_to_tag("plain") == tag_to_name("plain") == "plain"


# --------------------------------------------------------------------------------------------
# parse_shortcut


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("m", Shortcut("m")),
        ("m@v1.0.0", Shortcut("m", version="v1.0.0")),
        ("m@v1.0.0-rc.1+b.2", Shortcut("m", version="v1.0.0-rc.1+b.2")),
        ("m@latest", Shortcut("m", latest=True)),
        ("m@greatest", Shortcut("m", latest=True)),
        ("m#prod", Shortcut("m", stage="prod")),
        ("path/to:model#prod", Shortcut("path/to:model", stage="prod")),
        ("path/to:model@latest", Shortcut("path/to:model", latest=True)),
        # the shortcut takes the colon form: the `=` form is just an (unknown) name
        ("path/to=model@latest", Shortcut("path/to=model@latest")),
        # not shortcuts: the whole value is the name
        ("m@v1.0", Shortcut("m@v1.0")),
        ("m#prod#3", Shortcut("m#prod#3")),
        ("m@deprecated", Shortcut("m@deprecated")),
        ("m@latest\n", Shortcut("m@latest\n")),
    ],
)
def test_parse_shortcut(value: str, expected: Shortcut) -> None:
    assert parse_shortcut(value) == expected


def test_is_hexsha() -> None:
    assert is_hexsha("0123456789abcdefABCDEF0123456789abcdef01")
    assert not is_hexsha("0123456789abcdef0123456789abcdef0123456")  # 39
    assert not is_hexsha("0123456789abcdef0123456789abcdef012345678")  # 41
    assert not is_hexsha("g123456789abcdef0123456789abcdef01234567")
    assert not is_hexsha("0123456789abcdef0123456789abcdef01234567\n")


# --------------------------------------------------------------------------------------------
# validation


@pytest.mark.parametrize("value", ["a", "M", "1", "m", "my-model", "Sub/Model_A", "a1/b2"])
def test_check_name_accepts(value: str) -> None:
    assert check_name(value) == value


@pytest.mark.parametrize(
    "value", ["", "_m", "m_", "-m", "m-", "/m", "m/", "m.x", "a model", "m@1", "m#1", "ü", "m\n"]
)
def test_check_name_rejects(value: str) -> None:
    with pytest.raises(StagetagError) as err:
        check_name(value, "stage")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"invalid stage {value!r}")


GTO_ACCEPTS = ["a", "M", "1", "m", "dir/:m", "x.y:m", "path/to:model", "Some/Dir_1.x:Sub/Model_A"]
# What `gto register` refuses with "Invalid value" (gto-interop.md Part C).
GTO_REJECTS = ["_m", "m_", "m.x", "a model", "m@1", "m#1", ":m", "a:b:c", "dir=m", "ü", ""]
# Valid for GTO's regex, but git cannot store the tag (GTO fails late, "Failed to create tag").
GIT_REJECTS = ["./x:m", "x/../y:m", "a" * 250, "x.lock/:m", "x//y:m", ".x:m", "x/.y:m"]


@pytest.mark.parametrize("value", GTO_ACCEPTS)
def test_check_artifact_accepts(value: str) -> None:
    assert check_artifact(value) == value


def test_check_artifact_accepts_240_chars() -> None:
    """240 characters plus `@v0.0.1` fits a 255-byte ref file name: GTO creates the tag."""
    assert check_artifact("a" * 240) == "a" * 240


@pytest.mark.parametrize("value", [*GTO_REJECTS, *GIT_REJECTS])
def test_check_artifact_rejects_with_one_line_naming_the_value(value: str) -> None:
    with pytest.raises(StagetagError) as err:
        check_artifact(value)
    message = str(err.value)
    assert "\n" not in message
    assert repr(value) in message


def test_check_artifact_empty_name_after_dir_names_the_value() -> None:
    with pytest.raises(StagetagError, match=r"'dir:'"):
        check_artifact("dir:")


@pytest.mark.parametrize("value", ["dir:", "dir:_m", "dir:m."])
def test_check_artifact_rejects_bad_name_after_dir(value: str) -> None:
    with pytest.raises(StagetagError, match="invalid artifact name"):
        check_artifact(value)


@pytest.mark.parametrize("value", GIT_REJECTS)
def test_check_artifact_explains_git_unstorable(value: str) -> None:
    assert FULLNAME_RE.match(value), "precondition: GTO's own regex accepts it"
    with pytest.raises(StagetagError, match="git cannot store it"):
        check_artifact(value)


@pytest.mark.parametrize(
    "value",
    ["v1.0.0", "v0.0.1", "v1.0.0-rc.1", "v1.0.0+build.5", "v1.0.0-rc.1+b.2", "v1.0.0-beta.-1"],
)
def test_check_version_accepts(value: str) -> None:
    assert check_version(value) == value


@pytest.mark.parametrize(
    "value",
    ["1.0.0", "V1.0.0", "v1.0", "v01.0.0", "v1.0.0-01", "v1.0.0-rc_1", "v1.0.0\n", "vfoo", ""],
)
def test_check_version_rejects_with_one_line_naming_the_value(value: str) -> None:
    with pytest.raises(StagetagError) as err:
        check_version(value)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"invalid version {value!r}")


def test_check_version_rejects_non_ascii_digits() -> None:
    with pytest.raises(StagetagError):
        check_version("v1\u0660.0.0")  # ARABIC-INDIC DIGIT ZERO


# --------------------------------------------------------------------------------------------
# ref_name_problem vs git check-ref-format


def git_accepts_ref(ref: str) -> bool:
    result = subprocess.run(["git", "check-ref-format", ref], capture_output=True)
    return result.returncode == 0


TRICKY_TAGS = [
    "m@v1.0.0",
    "dir/=m@v0.0.1",
    "x.y=m#prod#1",
    "./x=m@v0.0.1",
    "x/../y=m@v0.0.1",
    "x/./y",
    "a..b",
    "a.",
    "a/b.",
    "a./b",
    ".a",
    "a/.b",
    "a.lock",
    "a.lock/b",
    ".lock",
    "a.lockx",
    "a/",
    "a//b",
    "a@{b",
    "a@b",
    "@",
    "a{b",
    "a b",
    "a\tb",
    "a\x7fb",
    "a\x01b",
    "a~b",
    "a^b",
    "a:b",
    "a?b",
    "a*b",
    "a[b",
    "a]b",
    "a\\b",
    "-a",
    "ü",
    "a=b#c!#1",
]


@pytest.mark.parametrize("tag", TRICKY_TAGS)
def test_ref_name_problem_agrees_with_git(tag: str) -> None:
    ref = f"refs/tags/{tag}"
    assert (ref_name_problem(ref) is None) == git_accepts_ref(ref)


def test_ref_name_problem_limits_component_bytes() -> None:
    """git check-ref-format allows any length; a loose ref file name cannot exceed 255 bytes."""
    assert ref_name_problem("refs/tags/" + "a" * 255) is None
    assert ref_name_problem("refs/tags/" + "a" * 256) is not None
    assert ref_name_problem("refs/tags/" + "ü" * 128) is not None  # 256 bytes, 128 chars
    assert ref_name_problem("refs/tags/" + "a/" * 200 + "a") is None


REF_ALPHABET = [*"ab.-_/=#!@{}l~^:?*[]\\ ü", "\t", "\x7f", ".lock"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(REF_ALPHABET), min_size=1, max_size=12).map("".join))
def test_ref_name_problem_agrees_with_git_on_generated_names(tag: str) -> None:
    # components stay far below 255 bytes, the one rule git check-ref-format does not check
    ref = f"refs/tags/{tag}"
    assert (ref_name_problem(ref) is None) == git_accepts_ref(ref)


# --------------------------------------------------------------------------------------------
# properties

artifacts = st.from_regex(FULLNAME_RE, fullmatch=True)
names = st.from_regex(NAME_RE, fullmatch=True)
versions = st.from_regex(VERSION_RE, fullmatch=True)
counters = st.none() | st.integers(min_value=0, max_value=10**6)


@st.composite
def valid_tags(draw: st.DrawFn) -> ParsedTag:
    action = draw(st.sampled_from([A.REGISTER, A.DEREGISTER, A.ASSIGN, A.UNASSIGN, A.DEPRECATE]))
    artifact = draw(artifacts)
    version = draw(versions) if action in (A.REGISTER, A.DEREGISTER) else None
    stage = draw(names) if action in (A.ASSIGN, A.UNASSIGN) else None
    return ParsedTag(artifact, action, version=version, stage=stage, counter=draw(counters))


@settings(max_examples=200)
@given(valid_tags())
def test_format_then_parse_round_trips(parsed: ParsedTag) -> None:
    tag = format_tag(parsed.action, parsed.artifact, parsed.version, parsed.stage, parsed.counter)
    assert parse_tag(tag) == parsed
    assert parse_tag(f"refs/tags/{tag}") == parsed


@settings(max_examples=200)
@given(valid_tags())
def test_parse_then_format_round_trips(parsed: ParsedTag) -> None:
    tag = format_tag(parsed.action, parsed.artifact, parsed.version, parsed.stage, parsed.counter)
    again = parse_tag(tag)
    assert again is not None
    assert (
        format_tag(again.action, again.artifact, again.version, again.stage, again.counter) == tag
    )


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(list("am0/_-.:=#@!v1 \n")), max_size=20))
def test_parsed_tags_hold_valid_fields(text: str) -> None:
    """Whatever parses as a GTO tag has an artifact, version and stage that pass validation."""
    parsed = parse_tag(text)
    if parsed is None:
        return
    assert FULLNAME_RE.match(parsed.artifact)
    if parsed.version is not None:
        check_version(parsed.version)
    if parsed.stage is not None:
        check_name(parsed.stage)


JUNK = st.text(alphabet=st.sampled_from(list("am0/_-.:=#@!v1+ \nü")), max_size=12)


def fails(check: Callable[[str], str], value: str) -> bool:
    try:
        check(value)
    except StagetagError:
        return True
    return False


@settings(max_examples=200)
@given(JUNK.filter(lambda s: not FULLNAME_RE.match(s)), st.sampled_from(list(A)), counters)
def test_invalid_artifact_never_parses_back(
    artifact: str, action: Action, counter: int | None
) -> None:
    tag = format_tag(action, artifact, version="v1.0.0", stage="prod", counter=counter)
    parsed = parse_tag(tag)
    assert parsed is None or parsed.artifact != artifact


@settings(max_examples=200)
@given(JUNK.filter(lambda s: fails(check_name, s)), counters)
def test_invalid_stage_never_parses_back(stage: str, counter: int | None) -> None:
    for action in (A.ASSIGN, A.UNASSIGN):
        parsed = parse_tag(format_tag(action, "m", stage=stage, counter=counter))
        assert parsed is None or (parsed.stage, parsed.counter) != (stage, counter)


@settings(max_examples=200)
@given(
    st.one_of(JUNK, versions.map(lambda v: v + "\n"), versions.map(lambda v: v.upper())).filter(
        lambda s: fails(check_version, s)
    ),
    counters,
)
def test_invalid_version_never_parses_back(version: str, counter: int | None) -> None:
    for action in (A.REGISTER, A.DEREGISTER):
        parsed = parse_tag(format_tag(action, "m", version=version, counter=counter))
        assert parsed is None or (parsed.version, parsed.counter) != (version, counter)
