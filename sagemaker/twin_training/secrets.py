"""The jobs' secrets, read from Secrets Manager by ARN (hyperparameters carry ARNs, never values)."""

from __future__ import annotations

from typing import Any

# What the stacks create every secret with (lambdas/settings/settings.ts, UNSET_SECRET_VALUE): a secret
# that still holds it was never set, and a job must stop before it sends it anywhere as a credential.
UNSET_SECRET_VALUE = "llm-twin: not set yet"


class SecretNotSetError(RuntimeError):
    """A secret the job needs still holds the stacks' placeholder (or nothing)."""


def read_secret(arn: str, setting: str, client: Any = None) -> str:
    """The secret's value; fails naming the secret and the command that sets it when it is not set."""
    if client is None:
        import boto3

        client = boto3.client("secretsmanager")
    value = client.get_secret_value(SecretId=arn).get("SecretString") or ""
    if value == UNSET_SECRET_VALUE or not value.strip():
        raise SecretNotSetError(
            f"{setting}: its secret {arn} still holds the placeholder the stack created it with; "
            f"set it with aws secretsmanager put-secret-value --secret-id {arn} --secret-string '...'"
        )
    return value
