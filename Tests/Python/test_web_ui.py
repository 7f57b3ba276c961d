"""The web page in a real headless Chromium (Debian chromium + chromium-driver through selenium): send a
message, watch the reply stream in, reload, find the conversation kept by the server. A screenshot is
saved to $AIGC_ARTIFACTS (default .build/artifacts) and its path printed."""
import os
import pathlib
import shutil
import time

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ROOT

ARTIFACTS = pathlib.Path(os.environ.get("AIGC_ARTIFACTS", ROOT / ".build" / "artifacts"))


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.fail("no Chromium found: install the Debian packages chromium and chromium-driver (scripts/install-deps.sh does)")


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = find_chromium()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--disable-gpu"):
        options.add_argument(flag)
    driver_path = shutil.which("chromedriver") or pytest.fail("no chromedriver: install the Debian package chromium-driver")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    yield driver
    driver.quit()


def by_testid(driver, testid):
    return driver.find_elements(By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def test_chat_streams_and_the_conversation_persists(server, browser):
    wait = WebDriverWait(browser, 120, poll_frequency=0.02)
    browser.get(server.url + "/")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#model option"))
    max_tokens = browser.find_element(By.ID, "max-tokens")
    max_tokens.clear()
    max_tokens.send_keys("40")
    temperature = browser.find_element(By.ID, "temperature")
    temperature.clear()
    temperature.send_keys("0")
    question = "Tell me about Paris."
    browser.find_element(By.ID, "input").send_keys(question)
    browser.find_element(By.ID, "send").click()

    # Streaming: the reply is seen at several lengths before the request ends.
    lengths = set()
    deadline = time.time() + 120
    while time.time() < deadline and browser.find_element(By.ID, "speed").get_attribute("data-done") != "true":
        replies = by_testid(browser, "message-assistant")
        if replies:
            lengths.add(len(replies[-1].find_element(By.CLASS_NAME, "text").text))
        time.sleep(0.01)
    assert browser.find_element(By.ID, "speed").get_attribute("data-done") == "true", "the reply finished"
    reply = by_testid(browser, "message-assistant")[-1].find_element(By.CLASS_NAME, "text").text
    assert reply, "a reply appeared"
    assert [n for n in lengths if 0 < n < len(reply)], f"partial replies were shown while streaming: {sorted(lengths)}"
    assert not by_testid(browser, "message-error"), by_testid(browser, "message-error")[0].text
    assert "AI-generated" in by_testid(browser, "ai-label")[-1].text
    assert "tok/s" in browser.find_element(By.ID, "speed").text

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "web-ui-chat.png"
    browser.save_screenshot(str(shot))
    print(f"\nweb UI screenshot: {shot}")

    browser.refresh()
    wait.until(lambda d: by_testid(d, "conversation"))
    items = [li for li in by_testid(browser, "conversation") if li.text.startswith(question[:20])]
    assert items, "the conversation is listed after a reload"
    items[0].click()
    wait.until(lambda d: by_testid(d, "message-assistant"))
    assert by_testid(browser, "message-user")[0].find_element(By.CLASS_NAME, "text").text == question
    assert by_testid(browser, "message-assistant")[0].find_element(By.CLASS_NAME, "text").text == reply
    assert "AI-generated" in by_testid(browser, "ai-label")[0].text
    browser.save_screenshot(str(ARTIFACTS / "web-ui-reloaded.png"))
    print(f"web UI screenshot after reload: {ARTIFACTS / 'web-ui-reloaded.png'}")


@pytest.fixture
def image_server(tmp_path):
    from conftest import Server
    generator = ROOT.parent / "shared" / "data" / "models" / "gan" / "generator.pth"
    s = Server(tmp_path / "images.sqlite", "--auth", "off", "--image-model", str(generator)).start()
    yield s
    s.stop()


def test_image_tab_generates_labelled_images(image_server, browser):
    wait = WebDriverWait(browser, 120, poll_frequency=0.05)
    browser.get(image_server.url + "/")
    browser.find_element(By.ID, "tab-images").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#image-model option"))
    assert browser.find_element(By.ID, "image-model").get_attribute("value") == "generator"
    seed = browser.find_element(By.ID, "image-seed")
    seed.send_keys("3")
    browser.find_element(By.ID, "image-generate").click()
    wait.until(lambda d: len(by_testid(d, "image")) == 4 or "error" in d.find_element(By.ID, "image-status").text.lower())
    status = browser.find_element(By.ID, "image-status").text
    assert len(by_testid(browser, "image")) == 4, status
    assert "4 image(s)" in status
    progress = browser.find_element(By.ID, "image-progress")
    assert progress.get_attribute("value") == progress.get_attribute("max"), "the progress bar reached the last step"
    assert all("AI-generated" in b.text for b in by_testid(browser, "image-ai-label"))
    assert all(img.get_attribute("naturalWidth") == "28" for img in browser.find_elements(By.CSS_SELECTOR, "figure.image img"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "web-ui-images.png"
    browser.save_screenshot(str(shot))
    print(f"\nweb UI image tab screenshot: {shot}")
