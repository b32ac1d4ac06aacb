"""The offline engine: runs a stack's program under Pulumi mocks and records what it declares."""
