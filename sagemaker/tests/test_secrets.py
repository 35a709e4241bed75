import pytest

from twin_training.secrets import UNSET_SECRET_VALUE, SecretNotSetError, read_secret

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:SecretsHFTOKEN-AbCdEf"


class FakeSecretsManager:
    def __init__(self, value: str) -> None:
        self.value = value
        self.asked: list[str] = []

    def get_secret_value(self, SecretId: str) -> dict[str, str]:  # noqa: N803 (boto3's argument name)
        self.asked.append(SecretId)
        return {"ARN": SecretId, "SecretString": self.value}


def test_reads_a_set_secret_by_arn():
    client = FakeSecretsManager("hf_real_token")
    assert read_secret(ARN, "HF_TOKEN", client) == "hf_real_token"
    assert client.asked == [ARN]


@pytest.mark.parametrize("value", [UNSET_SECRET_VALUE, "", "   "])
def test_refuses_the_stacks_placeholder_naming_the_secret_and_the_command(value):
    with pytest.raises(SecretNotSetError) as refused:
        read_secret(ARN, "HF_TOKEN", FakeSecretsManager(value))
    message = str(refused.value)
    assert message.startswith("HF_TOKEN: its secret " + ARN)
    assert f"aws secretsmanager put-secret-value --secret-id {ARN}" in message
