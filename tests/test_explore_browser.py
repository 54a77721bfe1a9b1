"""The explorer page in a real headless Chromium (Debian's chromium and chromium-driver, which
.ci/run installs), driven by Selenium: type a spec, hover the curve, break the spec, share the
link, run the exported code."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver")

import lrdecay  # noqa: E402
from tests._browser import chromium  # noqa: E402
from tests._explorer import running_explorer  # noqa: E402

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SPEC = "warmup(exponential_decay(0.1, decay_steps=30, decay_rate=0.5, staircase=True), steps=20)"


@pytest.fixture(scope="module")
def base():
    with running_explorer() as address:
        yield address


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


def wait_ready(driver, timeout=30):
    WebDriverWait(driver, timeout).until(
        lambda d: d.find_element(By.ID, "status").get_attribute("data-state") == "ready")


def type_spec(driver, text, index=0):
    area = driver.find_elements(By.CSS_SELECTOR, ".editor textarea")[index]
    area.send_keys(Keys.CONTROL, "a")
    area.send_keys(Keys.DELETE)
    area.send_keys(text)
    wait_ready(driver)


def hover(driver, fraction):
    """Move the mouse to ``fraction`` of the plot's width; the tooltip's step and values."""
    overlay = driver.find_element(By.CSS_SELECTOR, "#chart rect.overlay")
    width = overlay.rect["width"]
    ActionChains(driver).move_to_element_with_offset(overlay, int((fraction - 0.5) * (width - 2)), 0).perform()
    tip = driver.find_element(By.ID, "tip")
    WebDriverWait(driver, 5).until(lambda d: tip.is_displayed())
    step = int(tip.get_attribute("data-step"))
    rows = tip.find_elements(By.CSS_SELECTOR, ".row")
    return step, {int(r.get_attribute("data-series")): float(r.get_attribute("data-value")) for r in rows}


def open_page(driver, url):
    driver.get(url)
    wait_ready(driver)


def severe_console_messages(driver):
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_typed_spec_draws_the_librarys_values(base, browser):
    open_page(browser, base + "/")
    type_spec(browser, SPEC)
    browser.find_element(By.ID, "steps").send_keys("100")
    wait_ready(browser)
    schedule = lrdecay.parse(SPEC)
    seen = {}
    for fraction in (0.03, 0.18, 0.42, 0.66, 0.97):
        step, values = hover(browser, fraction)
        seen[step] = values[0]
    assert len(seen) == 5, seen
    assert seen == {step: schedule(step) for step in seen}  # exactly the library's floats
    assert max(seen) > 60 and min(seen) < 10
    summary = browser.find_element(By.ID, "summary").text
    assert repr(schedule) in summary
    assert not severe_console_messages(browser)


def test_bad_spec_shows_the_parsers_message_with_its_position(base, browser):
    open_page(browser, base + "/")
    for bad in ("exponential_decay(0.1, decay_steps=0, decay_rate=0.5)", "cosine_decay(0.1,, 10)"):
        type_spec(browser, bad)
        error = browser.find_element(By.CSS_SELECTOR, ".editor .error")
        WebDriverWait(browser, 10).until(lambda d: error.is_displayed())
        with pytest.raises(lrdecay.SpecError) as raised:
            lrdecay.parse(bad)
        message = str(raised.value)
        assert message.startswith("line 1, column ")
        column = int(message.split("column ")[1].split(":")[0])
        shown = error.text
        assert shown.startswith(message)
        assert shown.splitlines()[-2:] == [bad, " " * (column - 1) + "^"]  # the caret under the column
        assert "Traceback" not in browser.page_source


def test_shared_link_restores_the_view(base, browser):
    open_page(browser, base + "/")
    type_spec(browser, SPEC)
    browser.find_element(By.ID, "add").click()
    wait_ready(browser)
    type_spec(browser, "cosine_decay(0.1, decay_steps=80)", index=1)
    browser.find_element(By.ID, "log").click()
    browser.find_element(By.ID, "steps").send_keys("90")
    wait_ready(browser)
    browser.find_element(By.CSS_SELECTOR, '#tabs [data-tab="yaml"]').click()
    before = hover(browser, 0.5)
    link = browser.current_url
    assert "log=1" in link and "steps=90" in link

    browser.get("about:blank")
    open_page(browser, link)
    areas = browser.find_elements(By.CSS_SELECTOR, ".editor textarea")
    assert [a.get_attribute("value") for a in areas] == [SPEC, "cosine_decay(0.1, decay_steps=80)"]
    assert browser.find_element(By.ID, "log").is_selected()
    assert browser.find_element(By.ID, "steps").get_attribute("value") == "90"
    yaml_text = browser.find_element(By.ID, "out-yaml").text
    assert "kind: cosine_decay" in yaml_text  # the second schedule was selected, YAML tab open
    assert hover(browser, 0.5) == before


def test_zoom_and_zoom_out(base, browser):
    open_page(browser, base + "/?s=" + "cosine_decay(0.1, decay_steps=1000)")
    overlay = browser.find_element(By.CSS_SELECTOR, "#chart rect.overlay")
    width = overlay.rect["width"]
    (ActionChains(browser).move_to_element_with_offset(overlay, int(-0.3 * width), 0).click_and_hold()
     .move_by_offset(int(0.2 * width), 0).release().perform())
    WebDriverWait(browser, 10).until(lambda d: "from=" in d.current_url)
    wait_ready(browser)
    text = browser.find_element(By.ID, "window").text
    low, high = (int(v) for v in text.split("steps ")[1].split(" of")[0].split(" … "))
    assert 150 < low < 250 and 350 < high < 450
    step, values = hover(browser, 0.5)
    assert low <= step <= high and values[0] == lrdecay.cosine_decay(0.1, decay_steps=1000)(step)
    browser.find_element(By.ID, "reset-zoom").click()
    WebDriverWait(browser, 10).until(lambda d: "from=" not in d.current_url)
    wait_ready(browser)
    assert browser.find_element(By.ID, "window").text.startswith("steps 0 … 1000")


def test_form_of_a_kind_writes_the_spec(base, browser):
    open_page(browser, base + "/")
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#kind option")) > 10)
    browser.find_element(By.CSS_SELECTOR, '#kind option[value="exponential_decay"]').click()
    wait_ready(browser)
    rate = browser.find_element(By.ID, "field-decay_rate")
    rate.send_keys(Keys.CONTROL, "a")
    rate.send_keys("0.5")
    wait_ready(browser)
    text = browser.find_element(By.CSS_SELECTOR, ".editor textarea").get_attribute("value")
    assert lrdecay.parse(text) == lrdecay.exponential_decay(0.1, decay_steps=100, decay_rate=0.5, staircase=True)
    slider = browser.find_element(By.CSS_SELECTOR, '#fields input[aria-label="decay_steps slider"]')
    ActionChains(browser).click_and_hold(slider).move_by_offset(30, 0).release().perform()
    wait_ready(browser)
    moved = lrdecay.parse(browser.find_element(By.CSS_SELECTOR, ".editor textarea").get_attribute("value"))
    assert moved.decay_steps != 100 and moved.decay_rate == 0.5
    step, values = hover(browser, 0.5)
    assert values[0] == moved(step)


def test_exported_pytorch_code_runs_and_gives_the_same_values(base, browser, tmp_path):
    open_page(browser, base + "/")
    type_spec(browser, SPEC)
    browser.find_element(By.CSS_SELECTOR, '#tabs [data-tab="pytorch"]').click()
    code = browser.find_element(By.ID, "out-pytorch").text
    script = tmp_path / "pasted.py"
    script.write_text(code + "\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True).stdout
    rows = [line.split() for line in out.strip().splitlines()]
    schedule = lrdecay.parse(SPEC)
    assert [int(s) for s, _ in rows] == list(range(5))
    assert [float(lr) for _, lr in rows] == [schedule(step) for step in range(5)]
    assert json.loads(browser.execute_script("return JSON.stringify(location.search.includes('tab=pytorch'))"))


def test_checks_warnings_show_under_the_spec(base, browser):
    from lrdecay.summary import summarize

    open_page(browser, base + "/?steps=2000")
    spec = "warmup(cosine_decay(0.1, decay_steps=100), steps=3000)"
    type_spec(browser, spec)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".editor .warnings li"))
    shown = [li.text for li in browser.find_elements(By.CSS_SELECTOR, ".editor .warnings li")]
    _, expected = summarize(lrdecay.parse(spec), 2000)
    assert shown == expected and any("warm-up" in w for w in shown)
    panel = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#panel .warnings li")]
    assert panel == expected
