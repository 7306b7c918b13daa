from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

from azure_core_tracing_opentelemetry.diagnostics import (
    BASE_CONFIG_PATH,
    DEFAULT_KVP_FILTER,
    DEFAULT_LOG_PATH,
    DROP_IN_CONFIG_DIR,
    Level,
    TelemetryConfig,
    kvp_filter_for,
    load_config,
    log_filters_for,
)

SAMPLE = Path(__file__).parent / "data" / "azure-init-sample.toml"


def write(tmp_path: Path, text: str, name: str = "azure-init.toml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_only(path: Path) -> TelemetryConfig:
    """``path`` alone: no base file, no drop-in directory (none of this machine's /etc)."""
    absent = path.parent / "no-such-place"
    return load_config(path, base_path=absent / "base.toml", drop_in_dir=absent)


def test_azure_init_paths_are_the_defaults() -> None:
    assert BASE_CONFIG_PATH == "/etc/azure-init.toml"
    assert DROP_IN_CONFIG_DIR == "/etc/azure-init.d"
    assert DEFAULT_LOG_PATH == "/var/log/azure-init.log"


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    config = load_only(write(tmp_path, ""))
    assert config == TelemetryConfig()
    assert (config.kvp_diagnostics, config.kvp_filter, config.log_path) == (
        True,
        None,
        DEFAULT_LOG_PATH,
    )


def test_every_key(tmp_path: Path) -> None:
    config = load_only(
        write(
            tmp_path,
            '[telemetry]\nkvp_diagnostics = false\nkvp_filter = "warn,agent=debug"\n'
            '[azure_init_log_path]\npath = "/tmp/agent.log"\n',
        )
    )
    assert config == TelemetryConfig(False, "warn,agent=debug", "/tmp/agent.log")


def test_azure_inits_sample_with_drop_ins_and_an_explicit_path_as_azure_init_merges_it(
    tmp_path: Path,
) -> None:
    """The sample from azure-init's doc/configuration.md as the base file; its [ssh], [imds]
    (with a key azure-init does not know either) and the rest are azure-init's, ignored here."""
    drop_ins = tmp_path / "azure-init.d"
    write(drop_ins, '[telemetry]\nkvp_filter = "debug"\n', "10-filter.toml")
    write(drop_ins, '[azure_init_log_path]\npath = "/tmp/second.log"\n', "20-log.toml")
    write(drop_ins, '[azure_init_log_path]\npath = "/tmp/first.log"\n', "05-log.toml")
    write(drop_ins, "[telemetry]\nkvp_diagnostics = 'not a .toml'\n", "30-skipped.conf")
    explicit = write(tmp_path, "[telemetry]\nkvp_diagnostics = false\n", "cli.toml")

    assert load_config(base_path=SAMPLE, drop_in_dir=tmp_path / "absent") == TelemetryConfig(
        True, "info", "/var/log/azure-init.log"
    )
    assert load_config(base_path=SAMPLE, drop_in_dir=drop_ins) == TelemetryConfig(
        True, "debug", "/tmp/second.log"
    )
    # The explicit path is merged last, key by key: only kvp_diagnostics changes.
    assert load_config(explicit, base_path=SAMPLE, drop_in_dir=drop_ins) == TelemetryConfig(
        False, "debug", "/tmp/second.log"
    )


def test_drop_ins_merge_in_byte_order_later_wins_key_by_key(tmp_path: Path) -> None:
    base = write(tmp_path, '[telemetry]\nkvp_diagnostics = false\nkvp_filter = "base"\n')
    drop_ins = tmp_path / "d"
    # Byte order, as Rust sorts paths: "10" < "9", "Z" < "a".
    write(drop_ins, '[telemetry]\nkvp_filter = "nine"\n', "9-a.toml")
    write(drop_ins, '[telemetry]\nkvp_filter = "ten"\n', "10-a.toml")
    assert load_config(base_path=base, drop_in_dir=drop_ins).kvp_filter == "nine"
    write(drop_ins, '[telemetry]\nkvp_filter = "lower"\n', "a.toml")
    write(drop_ins, '[telemetry]\nkvp_filter = "upper"\n', "Z.toml")
    config = load_config(base_path=base, drop_in_dir=drop_ins)
    assert config.kvp_filter == "lower"
    assert config.kvp_diagnostics is False  # from the base: no drop-in set it


def test_an_explicit_directory_is_merged_like_the_drop_ins(tmp_path: Path) -> None:
    base = write(tmp_path, '[telemetry]\nkvp_filter = "base"\n')
    drop_ins = tmp_path / "d"
    write(drop_ins, '[azure_init_log_path]\npath = "/tmp/drop-in.log"\n', "50.toml")
    explicit = tmp_path / "cli"
    write(explicit, '[telemetry]\nkvp_filter = "cli-1"\n', "1.toml")
    write(explicit, '[telemetry]\nkvp_filter = "cli-2"\n', "2.toml")
    # What azure-init leaves out of a directory: subdirectories (even one named *.toml),
    # hidden ".toml", other extensions, and its own .d convention nested inside.
    (explicit / "3.toml").mkdir()
    write(explicit, '[telemetry]\nkvp_filter = "hidden"\n', ".toml")
    write(explicit, '[telemetry]\nkvp_filter = "other"\n', "4.toml.bak")
    write(explicit / "azure-init.toml.d", '[telemetry]\nkvp_filter = "nested"\n', "9.toml")
    config = load_config(explicit, base_path=base, drop_in_dir=drop_ins)
    assert config == TelemetryConfig(True, "cli-2", "/tmp/drop-in.log")


def test_missing_files_and_directories_are_skipped(tmp_path: Path) -> None:
    absent = tmp_path / "absent"
    assert load_config(absent / "x.toml", base_path=absent / "b", drop_in_dir=absent) == (
        TelemetryConfig()
    )
    assert load_config(absent, base_path=absent, drop_in_dir=absent) == TelemetryConfig()
    # A drop-in "directory" that is a file, and a base "file" that is a directory, as figment.
    plain = write(tmp_path, '[telemetry]\nkvp_filter = "x"\n', "plain.toml")
    assert load_config(base_path=tmp_path, drop_in_dir=plain) == TelemetryConfig()


def test_the_process_defaults_read_etc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real_isfile = os.path.isfile
    real_isdir = os.path.isdir

    def isfile(path: str) -> bool:
        seen.append(os.fspath(path))
        return real_isfile(path)

    def isdir(path: str) -> bool:
        seen.append(os.fspath(path))
        return real_isdir(path)

    # Watching which paths are looked at: this machine's /etc is not ours to write.
    monkeypatch.setattr(os.path, "isfile", isfile)
    monkeypatch.setattr(os.path, "isdir", isdir)
    load_config(tmp_path / "cli.toml")
    assert {"/etc/azure-init.d", "/etc/azure-init.toml", str(tmp_path / "cli.toml")} <= set(seen)


@pytest.mark.parametrize(
    "text",
    [
        "[ssh]\nport = 22\nquery_sshd_config = 'not a boolean'\n",
        "top = 1\n",
        "[telemetry]\nkvp_diagnostic = true\nsomething_new = [1, 2]\n",
        "[imds]\nconnection_timeout_secs = 30\n[wireserver]\nextra = { a = 1 }\n",
    ],
)
def test_sections_and_keys_this_library_does_not_read_are_ignored(
    tmp_path: Path, text: str
) -> None:
    assert load_only(write(tmp_path, text)) == TelemetryConfig()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[telemetry]\nkvp_diagnostics = 1\n", "[telemetry] kvp_diagnostics must be a boolean"),
        ('[telemetry]\nkvp_diagnostics = "yes"\n', "must be a boolean, got a string"),
        ("[telemetry]\nkvp_filter = true\n", "[telemetry] kvp_filter must be a string"),
        ("[azure_init_log_path]\npath = []\n", "[azure_init_log_path] path must be a string"),
        ('[azure_init_log_path]\npath = ""\n', "[azure_init_log_path] path"),
        ("telemetry = 3\n", "[telemetry] must be a table"),
        ("azure_init_log_path = 'x'\n", "[azure_init_log_path] must be a table"),
        ("[telemetry\n", "not valid TOML"),
        ("[ssh]\nok = 1\n\nbad = \n", "line 4"),
        ("[telemetry]\nkvp_diagnostics = true\nkvp_diagnostics = false\n", "line 3"),
    ],
)
def test_a_wrong_type_or_bad_toml_names_the_file_section_key_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as caught:
        load_only(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_a_wrong_type_names_the_file_that_gave_the_value_and_a_later_fix_wins(
    tmp_path: Path,
) -> None:
    base = write(tmp_path, "[telemetry]\nkvp_diagnostics = 'yes'\n", "base.toml")
    drop_ins = tmp_path / "d"
    bad = write(drop_ins, "[telemetry]\nkvp_filter = 7\n", "1.toml")
    with pytest.raises(ValueError) as caught:
        load_config(base_path=base, drop_in_dir=drop_ins)
    assert str(caught.value).startswith(f"{base}: [telemetry] kvp_diagnostics")
    write(drop_ins, "[telemetry]\nkvp_diagnostics = true\n", "2.toml")
    with pytest.raises(ValueError, match=r"^.*1\.toml: \[telemetry\] kvp_filter"):
        load_config(base_path=base, drop_in_dir=drop_ins)
    bad.write_text("[telemetry]\nkvp_filter = 'warn'\n", encoding="utf-8")
    # figment checks the merged values: a wrong type a later file replaces is no error.
    assert load_config(base_path=base, drop_in_dir=drop_ins) == TelemetryConfig(True, "warn")


@pytest.mark.parametrize("value", ["[" * 5000 + "]" * 5000, "{ b = " * 3000 + "1" + " }" * 3000])
def test_values_nested_too_deeply_are_a_value_error_naming_the_file(
    tmp_path: Path, value: str
) -> None:
    path = write(tmp_path, f"[ssh]\nhostile = {value}\n", "hostile.toml")
    with pytest.raises(ValueError, match=r"hostile\.toml: not valid TOML here: values nested too"):
        load_only(path)


def test_a_deeply_nested_table_this_library_does_not_read_is_ignored(tmp_path: Path) -> None:
    header = ".".join(["ssh"] * 20000)  # tomllib makes these tables without recursing
    text = f"[{header}]\nx = 1\n[telemetry]\nkvp_filter = 'debug'\n"
    try:
        config = load_only(write(tmp_path, text))
    except ValueError as error:  # tomli (Python 3.9 and 3.10) recurses on them itself
        assert sys.version_info < (3, 11) and "nested too deeply" in str(error)
    else:
        assert config.kvp_filter == "debug"


def test_bytes_that_are_not_utf8_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "binary.toml"
    path.write_bytes(b'[telemetry]\n\nkvp_filter = "\xff"\n')
    with pytest.raises(ValueError, match=r"binary\.toml: not valid TOML: not UTF-8 \(at line 3\)"):
        load_only(path)


def test_an_unreadable_file_is_a_value_error_naming_it(tmp_path: Path) -> None:
    # /proc/self/mem is a regular file whose read at offset 0 fails, even for root.
    if os.path.isfile("/proc/self/mem"):
        with pytest.raises(ValueError, match=r"^/proc/self/mem: cannot read: "):
            load_config(base_path="/proc/self/mem", drop_in_dir=tmp_path / "absent")
    if os.geteuid() != 0:
        locked = write(tmp_path / "d", "", "1.toml")
        locked.chmod(0)
        with pytest.raises(ValueError, match=r"1\.toml: cannot read: Permission denied"):
            load_config(base_path=tmp_path / "absent", drop_in_dir=tmp_path / "d")


def test_config_values_are_checked_when_built_in_code() -> None:
    with pytest.raises(TypeError, match="kvp_diagnostics must be a bool"):
        TelemetryConfig(kvp_diagnostics="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="kvp_filter must be a str"):
        TelemetryConfig(kvp_filter=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="log_path"):
        TelemetryConfig(log_path="")


def test_kvp_filter_precedence_env_then_config_then_default() -> None:
    config = TelemetryConfig(kvp_filter="error")
    assert kvp_filter_for(config, {"AZURE_INIT_KVP_FILTER": "debug"}).directives == "debug"
    assert kvp_filter_for(config, {}).directives == "error"
    assert kvp_filter_for(TelemetryConfig(), {}).directives == DEFAULT_KVP_FILTER
    assert kvp_filter_for(config, {"AZURE_INIT_KVP_FILTER": "  "}).directives == "error"


def test_an_invalid_env_filter_warns_and_falls_through_to_the_config(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = TelemetryConfig(kvp_filter="error")
    with caplog.at_level(logging.WARNING):
        chosen = kvp_filter_for(config, {"AZURE_INIT_KVP_FILTER": "info,x=loud"})
    assert chosen.directives == "error"
    [warning] = caplog.records
    assert "AZURE_INIT_KVP_FILTER" in warning.getMessage() and "'x=loud'" in warning.getMessage()


def test_invalid_env_and_config_filters_fall_through_to_the_default(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = TelemetryConfig(kvp_filter="x=?")
    with caplog.at_level(logging.WARNING):
        chosen = kvp_filter_for(config, {"AZURE_INIT_KVP_FILTER": "??"})
    assert chosen.directives == DEFAULT_KVP_FILTER
    assert len(caplog.records) == 2


def test_the_default_kvp_filter_is_warn_and_info_for_this_project() -> None:
    default = kvp_filter_for(TelemetryConfig(), {})
    assert default.threshold("any.app") is Level.WARN
    assert default.threshold("azure_core_tracing.http") is Level.INFO
    assert default.threshold("azure_core_tracing_opentelemetry.diagnostics") is Level.INFO


def test_azure_init_log_defaults_to_error_on_stderr_and_info_in_the_file() -> None:
    stderr, file = log_filters_for({})
    assert stderr.threshold("x") is Level.ERROR and file.threshold("x") is Level.INFO


def test_azure_init_log_sets_both_and_an_invalid_value_keeps_the_defaults(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stderr, file = log_filters_for({"AZURE_INIT_LOG": "debug,noisy=off"})
    assert stderr.threshold("x") is Level.DEBUG and file.threshold("noisy") is Level.OFF
    with caplog.at_level(logging.WARNING):
        stderr, file = log_filters_for({"AZURE_INIT_LOG": "verbose=yes"})
    assert stderr.threshold("x") is Level.ERROR and file.threshold("x") is Level.INFO
    assert "AZURE_INIT_LOG" in caplog.text


def test_the_process_environment_is_read_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_INIT_KVP_FILTER", "trace")
    monkeypatch.setenv("AZURE_INIT_LOG", "warn")
    assert kvp_filter_for(TelemetryConfig()).directives == "trace"
    assert log_filters_for()[0].directives == "warn"
