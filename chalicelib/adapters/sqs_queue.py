"""Send a job to its SQS queue."""

from __future__ import annotations

import json
from functools import cached_property

from chalicelib.adapters import aws


class SqsJobQueue:
    def __init__(self, queue_name: str):
        self.queue_name = queue_name

    @cached_property
    def url(self) -> str:
        return aws.client("sqs").get_queue_url(QueueName=self.queue_name)["QueueUrl"]

    def send(self, job_id: str) -> None:
        aws.client("sqs").send_message(QueueUrl=self.url, MessageBody=json.dumps({"job_id": job_id}))
