"""SMS through an HTTP gateway: POST JSON {"to", "text"} to a configurable URL.

The text comes from a configurable template with the fields {text} (our message) and
{subject}, e.g. "【12345】{text}". Any 2xx answer counts as accepted.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from jiesu.notify.notifier import Message, NotifyError


class HttpSmsNotifier:
    channel = "sms"

    def __init__(self, url: str, template: str = "{text}", *, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("sms url must start with http:// or https://")
        self.url, self.template, self.timeout = url, template, timeout

    def render(self, message: Message) -> str:
        try:
            return self.template.format(text=message.body, subject=message.subject)
        except (KeyError, IndexError, ValueError) as exc:
            raise NotifyError(f"sms template is broken: {exc!r}") from exc

    def send(self, message: Message) -> None:
        body = json.dumps({"to": message.recipient, "text": self.render(message)}).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                status = resp.status
        except urllib.error.HTTPError as exc:
            raise NotifyError(f"sms gateway answered HTTP {exc.code}") from exc
        except (OSError, urllib.error.URLError) as exc:
            raise NotifyError(f"sms gateway unreachable: {type(exc).__name__}") from exc
        if not 200 <= status < 300:
            raise NotifyError(f"sms gateway answered HTTP {status}")
