"""CURVE keys for the benchmarks (issue 14): one pair for the collector, one for every sender.

Made by `logfunnel-collector keygen`, as a user makes them (README "Logging from other machines"), and
handed to each side the way its users configure it: the collector's `[curve]`, the Python Handler's
`curve_server_key`/`curve_secret_key`, the blaster's flags of the same names.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from common import collector_command


@dataclass(frozen=True)
class CurveKeys:
    """A folder holding `collector.key[_secret]` and `sender.key[_secret]`."""

    directory: Path

    @staticmethod
    def generate(directory: Path) -> CurveKeys:
        directory.mkdir(parents=True, exist_ok=True)
        for who in ("collector", "sender"):
            subprocess.run(
                collector_command() + ["keygen", "--out", str(directory / who)],
                check=True,
                capture_output=True,
            )
        return CurveKeys(directory)

    def path(self, who: str, secret: bool = False) -> str:
        return str(self.directory / f"{who}.key{'_secret' if secret else ''}")

    def collector_kwargs(self) -> dict:
        """For `common.Collector`: its secret key and the one sender key it lets in."""
        allow = Path(self.path("sender")).read_text().strip()
        return {"curve_secret_key_file": self.path("collector", secret=True), "curve_allow": [allow]}

    def handler_kwargs(self) -> dict:
        """For `logfunnel.Handler`."""
        return {"curve_server_key": self.path("collector"), "curve_secret_key": self.path("sender", secret=True)}

    def sender_args(self) -> list[str]:
        """The same two options as command-line flags (the blaster, e2e_app.py, percall.py)."""
        return [
            "--curve-server-key", self.path("collector"),
            "--curve-secret-key", self.path("sender", secret=True),
        ]  # fmt: skip
