"""Take docs/explorer.png: the explorer page (``lrdecay explore``) in headless Chromium, three
schedules overlaid, the mouse over the curves and the PyTorch code shown.

    python scripts/explorer_screenshot.py [--out docs/explorer.png]

Needs the test extra (selenium) and Debian's chromium and chromium-driver.
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests._browser import chromium  # noqa: E402
from tests._explorer import running_explorer  # noqa: E402

SPECS = [
    "warmup(cosine_decay(0.1, decay_steps=9000, alpha=0.05), steps=1000)",
    "one_cycle(0.1, total_steps=10000)",
    "warmup_stable_decay(0.1, warmup_steps=1000, stable_steps=6000, decay_steps=3000, decay_shape='1-sqrt')",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "explorer.png")
    out = parser.parse_args().out
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    query = urllib.parse.urlencode([("s", s) for s in SPECS] + [("sel", "2"), ("tab", "pytorch")])
    with running_explorer() as base, chromium() as driver:
        driver.set_window_size(1400, 1000)
        driver.get(f"{base}/?{query}")
        WebDriverWait(driver, 30).until(
            lambda d: d.find_element(By.ID, "status").get_attribute("data-state") == "ready")
        overlay = driver.find_element(By.CSS_SELECTOR, "#chart .u-over")  # uPlot's cursor layer
        ActionChains(driver).move_to_element_with_offset(overlay, int(-0.28 * overlay.rect["width"]), 0).perform()
        WebDriverWait(driver, 10).until(  # the legend reads the values under the mouse
            lambda d: d.find_element(By.CSS_SELECTOR, "#chart .uplot").get_attribute("data-step"))
        out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
