from __future__ import annotations

import logging
from pathlib import Path

import pytest

from azure_core_tracing_opentelemetry.diagnostics import (
    DEFAULT_KVP_FILTER,
    DEFAULT_LOG_PATH,
    Level,
    TelemetryConfig,
    kvp_filter_for,
    load_config,
    log_filters_for,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "azure-init.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config == TelemetryConfig()
    assert (config.kvp_diagnostics, config.kvp_filter, config.log_path) == (
        True,
        None,
        DEFAULT_LOG_PATH,
    )
    assert DEFAULT_LOG_PATH == "/var/log/azure-init.log"


def test_every_key(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            '[telemetry]\nkvp_diagnostics = false\nkvp_filter = "warn,agent=debug"\n'
            '[azure_init_log_path]\npath = "/tmp/agent.log"\n',
        )
    )
    assert config == TelemetryConfig(False, "warn,agent=debug", "/tmp/agent.log")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[telemetry]\nkvp_diagnostic = true\n", "unknown key 'telemetry.kvp_diagnostic'"),
        ("[ssh]\nport = 22\n", "unknown key 'ssh'"),
        ("top = 1\n", "unknown key 'top'"),
        ("[telemetry]\nkvp_diagnostics = 1\n", "'telemetry.kvp_diagnostics' must be a boolean"),
        ('[telemetry]\nkvp_diagnostics = "yes"\n', "must be a boolean, got a string"),
        ("[telemetry]\nkvp_filter = true\n", "'telemetry.kvp_filter' must be a string"),
        ("[azure_init_log_path]\npath = []\n", "'azure_init_log_path.path' must be a string"),
        ('[azure_init_log_path]\npath = ""\n', "'azure_init_log_path.path'"),
        ("telemetry = 3\n", "'telemetry' must be a table"),
        ("[telemetry\n", "not valid TOML"),
        ("[telemetry]\nkvp_diagnostics = true\nkvp_diagnostics = false\n", "not valid TOML"),
    ],
)
def test_a_wrong_type_unknown_key_or_bad_toml_names_the_key_and_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_bytes_that_are_not_utf8_are_a_value_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "binary.toml"
    path.write_bytes(b'[telemetry]\nkvp_filter = "\xff"\n')
    with pytest.raises(ValueError, match=r"binary\.toml: not valid TOML"):
        load_config(path)


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "absent.toml")


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
