"""The explorer page in a real headless Chromium (Debian's chromium and chromium-driver, which
.ci/run installs), driven by Selenium: type a spec, hover the curve, break the spec, share the
link, build a spec from a kind and undo it, read the log axis and the legend, run the exported
code, load a loss law for the predicted-loss chart.

The charts are uPlot's (static/vendor/uplot/); a test reads a chart through the page's
``charts.lr`` and ``charts.loss`` (the uPlot objects), e.g. the tick labels it drew."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import urllib.parse

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver")

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

import lrdecay  # noqa: E402
from tests._browser import chromium  # noqa: E402
from tests._explorer import running_explorer  # noqa: E402

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


def hover(driver, fraction, chart="chart"):
    """Move the mouse to ``fraction`` of the plot's width; the step and the values the legend
    reads out there (each schedule's exact value, by schedule index)."""
    plot = driver.find_element(By.CSS_SELECTOR, f"#{chart} .u-over")
    width = plot.rect["width"]
    ActionChains(driver).move_to_element_with_offset(plot, int((fraction - 0.5) * (width - 2)), 0).perform()
    root = driver.find_element(By.CSS_SELECTOR, f"#{chart} .uplot")
    WebDriverWait(driver, 5).until(lambda d: root.get_attribute("data-step"))
    step = int(root.get_attribute("data-step"))
    rows = root.find_elements(By.CSS_SELECTOR, ".u-legend tr.u-series[data-series]")
    return step, {int(r.get_attribute("data-series")): float(r.get_attribute("data-value")) for r in rows}


def drag(driver, chart, start, stop):
    """Drag across the plot of ``chart`` from ``start`` to ``stop`` (fractions of its width)."""
    plot = driver.find_element(By.CSS_SELECTOR, f"#{chart} .u-over")
    width = plot.rect["width"]
    (ActionChains(driver).move_to_element_with_offset(plot, int((start - 0.5) * width), 0).click_and_hold()
     .move_by_offset(int((stop - start) * width), 0).release().perform())


def shown_window(driver):
    text = driver.find_element(By.ID, "window").text
    return tuple(int(v) for v in text.split("steps ")[1].split(" of")[0].split(" … "))


def y_ticks(driver, chart="lr"):
    """The value axis' ticks and their labels as uPlot drew them, and the scale's range."""
    return driver.execute_script(
        f"const u = charts.{chart}; return [u.axes[1]._splits, u.axes[1]._values, u.scales.y.min, u.scales.y.max]")


def texts(driver):
    return [a.get_attribute("value") for a in driver.find_elements(By.CSS_SELECTOR, ".editor textarea")]


def page_with(*specs, **params):
    return "/?" + urllib.parse.urlencode([("s", s) for s in specs] + list(params.items()))


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
    drag(browser, "chart", 0.2, 0.4)
    WebDriverWait(browser, 10).until(lambda d: "from=" in d.current_url)
    wait_ready(browser)
    low, high = shown_window(browser)
    assert 150 < low < 250 and 350 < high < 450
    step, values = hover(browser, 0.5)
    assert low <= step <= high and values[0] == lrdecay.cosine_decay(0.1, decay_steps=1000)(step)
    browser.find_element(By.ID, "reset-zoom").click()
    WebDriverWait(browser, 10).until(lambda d: "from=" not in d.current_url)
    wait_ready(browser)
    assert browser.find_element(By.ID, "window").text.startswith("steps 0 … 1000")
    drag(browser, "chart", 0.5, 0.7)
    WebDriverWait(browser, 10).until(lambda d: "from=" in d.current_url)
    wait_ready(browser)
    ActionChains(browser).double_click(browser.find_element(By.CSS_SELECTOR, "#chart .u-over")).perform()
    WebDriverWait(browser, 10).until(lambda d: "from=" not in d.current_url)
    wait_ready(browser)
    assert shown_window(browser) == (0, 1000)


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
    from lrdecay.tools.summary import summarize

    open_page(browser, base + "/?steps=2000")
    spec = "warmup(cosine_decay(0.1, decay_steps=100), steps=3000)"
    type_spec(browser, spec)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".editor .warnings li"))
    shown = [li.text for li in browser.find_elements(By.CSS_SELECTOR, ".editor .warnings li")]
    _, expected = summarize(lrdecay.parse(spec), 2000)
    assert shown == expected and any("warm-up" in w for w in shown)
    panel = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#panel .warnings li")]
    assert panel == expected


def wait_kinds(driver):
    WebDriverWait(driver, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#kind option")) > 10)


def form_shown(driver):
    """The kind the form shows and its fields' values (the number box of a number)."""
    kind = driver.find_element(By.ID, "kind").get_attribute("value")
    fields = driver.find_elements(By.CSS_SELECTOR, "#fields [id^=field-]")
    return kind, {f.get_attribute("id")[len("field-"):]: f.get_attribute("value") for f in fields}


def set_field(driver, name, value):
    box = driver.find_element(By.ID, f"field-{name}")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(value)
    wait_ready(driver)


def test_form_follows_the_selected_schedule_and_its_replacements_undo(base, browser):
    first, second = "cosine_decay(0.1, decay_steps=1000)", "exponential_decay(0.1, 30, 0.5)"
    open_page(browser, base + page_with(first, second))
    wait_kinds(browser)
    areas = browser.find_elements(By.CSS_SELECTOR, ".editor textarea")
    kind, fields = form_shown(browser)
    assert kind == "cosine_decay" and fields["learning_rate"] == "0.1" and fields["decay_steps"] == "1000"
    areas[1].click()  # the form follows the selection; positional arguments fill the parameters in order
    assert form_shown(browser) == ("exponential_decay", {
        "learning_rate": "0.1", "decay_steps": "30", "decay_rate": "0.5", "staircase": "on"})
    assert not browser.find_element(By.ID, "field-staircase").is_selected()
    undo = browser.find_element(By.ID, "undo")
    assert not undo.is_enabled()

    browser.find_element(By.CSS_SELECTOR, '#kind option[value="linear"]').click()  # replaces schedule 2 only
    wait_ready(browser)
    example = texts(browser)[1]
    assert lrdecay.parse(example).kind == "linear" and texts(browser)[0] == first
    set_field(browser, "steps", "50")  # one edit of a box: one step of undo
    edited = texts(browser)[1]
    assert lrdecay.parse(edited).steps == 50 and texts(browser)[0] == first

    areas[0].click()  # the form shows schedule 1 again, and edits it, not schedule 2
    kind, fields = form_shown(browser)
    assert kind == "cosine_decay" and fields["decay_steps"] == "1000" and not undo.is_enabled()
    set_field(browser, "decay_steps", "400")
    assert lrdecay.parse(texts(browser)[0]) == lrdecay.cosine_decay(0.1, decay_steps=400)
    assert texts(browser)[1] == edited
    undo.click()
    wait_ready(browser)
    assert texts(browser) == [first, edited] and not undo.is_enabled()
    assert form_shown(browser)[1]["decay_steps"] == "1000"

    areas[1].click()
    assert undo.is_enabled()
    browser.find_element(By.CSS_SELECTOR, "header h1").click()  # Ctrl+Z outside a text field: the form's undo
    for expected in (example, second):
        ActionChains(browser).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform()
        WebDriverWait(browser, 5).until(lambda d: texts(d)[1] == expected)
        wait_ready(browser)
    assert texts(browser) == [first, second] and not undo.is_enabled()
    assert form_shown(browser)[0] == "exponential_decay"
    hover_step, values = hover(browser, 0.5)
    assert values[1] == lrdecay.parse(second)(hover_step)

    type_spec(browser, '{"kind": "constant", "value": 0.1}', index=1)  # not a call of a kind: no form
    assert form_shown(browser) == ("", {})
    assert not severe_console_messages(browser)


def test_log_axis_labels_headroom_and_legend(base, browser):
    specs = [
        "warmup(cosine_decay(0.1, decay_steps=9000, alpha=0.001), steps=1000)",
        "exponential_decay(0.1, decay_steps=1000, decay_rate=0.5)",
        "one_cycle(0.1, total_steps=10000)",
    ]
    open_page(browser, base + page_with(*specs, log="1"))
    assert not browser.find_elements(By.CSS_SELECTOR, "svg")  # uPlot draws on canvas
    sources = browser.execute_script("return [...document.scripts].map((s) => s.src)")
    assert sources == [f"{base}/static/vendor/uplot/uPlot.iife.min.js", f"{base}/static/explorer.js"]

    ticks, labels, low, high = y_ticks(browser)
    assert len(ticks) >= 4 and all(re.fullmatch(r"\d(\.\d+)?e-?\d+", label) for label in labels), labels
    assert len({len(label.split("e")[0]) for label in labels}) == 1  # the same digits on every label
    assert [float(label) for label in labels] == pytest.approx(ticks)
    values = [lrdecay.parse(s)(step) for s in specs for step in range(10001)]
    top, bottom = max(values), min(v for v in values if v > 0)
    span = math.log10(high) - math.log10(low)
    assert math.log10(high) - math.log10(top) > 0.03 * span  # the peaks do not touch the frame
    assert math.log10(bottom) - math.log10(low) > 0.03 * span

    rows = browser.find_elements(By.CSS_SELECTOR, "#chart .u-legend tr.u-series[data-series]")
    editors = browser.find_elements(By.CSS_SELECTOR, ".editor")
    assert len(rows) == 3
    for spec, row, editor in zip(specs, rows, editors):
        label = row.find_element(By.CSS_SELECTOR, ".u-label span")
        assert label.get_attribute("title") == spec
        assert label.text == (spec if len(spec) <= 48 else spec[:47] + "…")
        colour = editor.value_of_css_property("border-left-color")
        assert row.find_element(By.CSS_SELECTOR, ".u-marker").value_of_css_property("background-color") == colour

    open_page(browser, base + page_with(specs[0], log="1", **{"from": "2000", "to": "2030"}))
    ticks, labels, low, high = y_ticks(browser)
    assert len(ticks) >= 4 and len(set(labels)) == len(labels), labels
    assert all(re.fullmatch(r"\d(\.\d+)?e-?\d+", label) for label in labels), labels
    shown = [lrdecay.parse(specs[0])(step) for step in range(2000, 2031)]
    assert low < min(shown) and max(shown) < high
    assert not severe_console_messages(browser)


LAW = {"law": "multi_power", "params": {"L0": 2.1, "A": 0.4, "alpha": 0.5}}

# /api/forecast as the page expects it (the server does not have it yet): a made-up loss that
# falls with the learning rate summed so far, every 10 steps.
FAKE_FORECAST = """
window.forecastRequests = [];
const serverFetch = window.fetch;
window.fetch = async (path, init) => {
  if (path !== "/api/forecast") return serverFetch(path, init);
  const body = JSON.parse(init.body);
  window.forecastRequests.push(body);
  const curves = body.specs.map((spec, i) => {
    const steps = [], loss = [];
    for (let t = 0; t < body.steps; t += 10) { steps.push(t); loss.push(3 + i - t / body.steps); }
    return spec.startsWith("bad") ? {error: "no such schedule"} : {steps, loss, final: loss[loss.length - 1]};
  });
  return new Response(JSON.stringify({curves}), {headers: {"Content-Type": "application/json"}});
};
"""


def load_law(driver, tmp_path):
    law = tmp_path / "law.json"
    law.write_text(json.dumps(LAW))
    driver.find_element(By.ID, "law-file").send_keys(str(law))


def test_loss_panel_draws_the_servers_forecast_with_a_real_law(base, browser, tmp_path):
    from lrdecay.forecast import MultiPowerLaw

    params = dict(L0=3.04045406, A=0.52468604, alpha=0.50786857, B=363.78751622, C=2.06560812,
                  beta=0.58279013, gamma=0.64142257)  # Luo et al.'s 25M model
    specs = ["warmup(cosine_annealing(3e-4, 21840, eta_min=3e-5), 2160)", "warmup(constant(3e-4), 2160)"]
    open_page(browser, base + page_with(*specs) + "&steps=24000")
    loss = browser.find_element(By.ID, "loss")
    assert not loss.is_displayed()  # hidden until a law is loaded
    law = tmp_path / "law.json"
    law.write_text(json.dumps({"law": "multi_power", **params}))
    browser.find_element(By.ID, "law-file").send_keys(str(law))
    WebDriverWait(browser, 60).until(lambda d: loss.get_attribute("data-state") == "drawn")
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#loss-chart .u-legend .u-series[data-series] .u-label")]
    names = [label.split(" — final ")[0] for label in labels]  # each spec, shortened with "…"
    assert len(names) == 2 and all(spec.startswith(name.rstrip("…")) for name, spec in zip(names, specs))
    finals = [float(label.split(" — final ")[1]) for label in labels]
    expected = [MultiPowerLaw(**params).predict(lrdecay.parse(s), [23999])[0] for s in specs]
    np.testing.assert_allclose(finals, expected, rtol=1e-3)
    assert finals[0] < finals[1]  # the law rewards the decay
    step, values = hover(browser, 0.5)  # the learning-rate chart works as before
    assert values[0] == lrdecay.parse(specs[0])(step)

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"law": "multi_power", "L0": 1.0}))  # a law that can't be used
    browser.find_element(By.ID, "law-file").send_keys(str(bad))
    WebDriverWait(browser, 30).until(lambda d: loss.get_attribute("data-state") == "error")
    assert "law: " in browser.find_element(By.ID, "loss-message").text


def test_loss_panel_shows_the_forecast_synchronized_with_the_rates(base, browser, tmp_path):
    specs = ["cosine_decay(0.1, decay_steps=1000)", "bad(1)", "linear(0.1, 0.0, 1000)"]
    open_page(browser, base + page_with(*specs))
    browser.execute_script(FAKE_FORECAST)
    load_law(browser, tmp_path)
    loss = browser.find_element(By.ID, "loss")
    WebDriverWait(browser, 10).until(lambda d: loss.get_attribute("data-state") == "drawn")
    assert browser.execute_script("return window.forecastRequests") == [{"law": LAW, "specs": specs, "steps": 1001}]
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#loss-chart .u-legend .u-series[data-series] .u-label")]
    assert labels == [f"{specs[0]} — final 2.001", f"{specs[2]} — final 4.001"]  # 3 + i - 1000 / 1001
    assert browser.find_element(By.ID, "loss-message").text == "schedule 2: no such schedule"

    step, _ = hover(browser, 0.3)  # one cursor for both charts
    loss_step = int(browser.find_element(By.CSS_SELECTOR, "#loss-chart .uplot").get_attribute("data-step"))
    assert abs(loss_step - step) <= 10

    drag(browser, "loss-chart", 0.5, 0.8)  # zoom on the loss chart zooms both
    WebDriverWait(browser, 10).until(lambda d: "from=" in d.current_url)
    wait_ready(browser)
    low, high = shown_window(browser)
    assert 450 < low < 550 and 750 < high < 850
    windows = browser.execute_script("return [charts.lr, charts.loss].map((u) => [u.scales.x.min, u.scales.x.max])")
    assert windows == [[low, high], [low, high]]
    assert len(browser.execute_script("return window.forecastRequests")) == 1  # same law, specs and steps
    ActionChains(browser).double_click(browser.find_element(By.CSS_SELECTOR, "#loss-chart .u-over")).perform()
    WebDriverWait(browser, 10).until(lambda d: "from=" not in d.current_url)
    wait_ready(browser)
    assert browser.execute_script("return charts.loss.scales.x.max") == 1000
