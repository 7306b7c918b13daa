"""OpenTelemetry adapter for azure_core_tracing."""
