"""Headless Chromium for the HTML report test: render a page, keep its console lines and a
screenshot. Uses the distribution's browser (Debian: ``apt-get install chromium``, see
.ci/steps/50-chromium.sh); no browser download at test time."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

NAMES = ("chromium", "chromium-headless-shell", "chromium-browser", "google-chrome")
# "[pid:tid:date:INFO:CONSOLE:12] "message", source: file:///... (12)"
CONSOLE = re.compile(r':CONSOLE(?::\d+)?\] "(?P<message>.*)", source: ')


def find_browser() -> str | None:
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class Rendered:
    console: list[str]
    screenshot: bytes


def render(browser: str, html_path: str, screenshot_path: str, width: int = 1100,
           height: int = 2600) -> Rendered:
    """Load the page headless, wait for it, save a screenshot; the console lines it logged."""
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--enable-logging=stderr", "--log-level=0", f"--window-size={width},{height}",
               f"--screenshot={screenshot_path}", f"file://{html_path}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{browser} failed ({done.returncode}): {done.stderr[-2000:]}")
    with open(screenshot_path, "rb") as handle:
        image = handle.read()
    return Rendered([m.group("message") for m in CONSOLE.finditer(done.stderr)], image)
