"""VM provisioning diagnostics: Hyper-V KVP records, stderr and file lines, EnvFilter filters.

``setup_layers(load_config(path))`` builds them all on one OpenTelemetry SDK provider; the
parts are usable alone (``KvpWriter`` with ``KvpSpanProcessor`` or ``KvpLogHandler``).
"""

from azure_core_tracing_opentelemetry.diagnostics.config import (
    BASE_CONFIG_PATH,
    DEFAULT_KVP_FILTER,
    DEFAULT_LOG_PATH,
    DROP_IN_CONFIG_DIR,
    TelemetryConfig,
    kvp_filter_for,
    load_config,
    log_filters_for,
)
from azure_core_tracing_opentelemetry.diagnostics.filter import EnvFilter, Level
from azure_core_tracing_opentelemetry.diagnostics.kvp_key import (
    DEFAULT_EVENT_PREFIX,
    ZERO_GUID,
    KvpKey,
    read_vm_id,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_layer import KvpLogHandler, KvpSpanProcessor
from azure_core_tracing_opentelemetry.diagnostics.kvp_record import (
    KEY_FIELD_BYTES,
    KEY_MAX_BYTES,
    RECORD_BYTES,
    VALUE_CHUNK_MAX_BYTES,
    VALUE_FIELD_BYTES,
    KvpRecord,
    KvpRecords,
    encode_kvp_record,
    read_kvp_pool,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_writer import DEFAULT_KVP_POOL_PATH, KvpWriter
from azure_core_tracing_opentelemetry.diagnostics.layers import TracingLayers, setup_layers
from azure_core_tracing_opentelemetry.diagnostics.report import (
    PROVISIONING_REPORT_KEY,
    ProvisioningReport,
)

__all__ = [
    "BASE_CONFIG_PATH",
    "DEFAULT_EVENT_PREFIX",
    "DEFAULT_KVP_FILTER",
    "DEFAULT_KVP_POOL_PATH",
    "DEFAULT_LOG_PATH",
    "DROP_IN_CONFIG_DIR",
    "KEY_FIELD_BYTES",
    "KEY_MAX_BYTES",
    "PROVISIONING_REPORT_KEY",
    "RECORD_BYTES",
    "VALUE_CHUNK_MAX_BYTES",
    "VALUE_FIELD_BYTES",
    "ZERO_GUID",
    "EnvFilter",
    "KvpKey",
    "KvpLogHandler",
    "KvpRecord",
    "KvpRecords",
    "KvpSpanProcessor",
    "KvpWriter",
    "Level",
    "ProvisioningReport",
    "TelemetryConfig",
    "TracingLayers",
    "encode_kvp_record",
    "kvp_filter_for",
    "load_config",
    "log_filters_for",
    "read_kvp_pool",
    "read_vm_id",
    "setup_layers",
]
