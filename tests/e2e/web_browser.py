#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# Drives Debian's headless chromium (chromedriver, selenium) through lsnitch-web for
# t_web_browser.sh: login, Status, Policies, Live (a denial triggered by TRIGGER must show
# within 2 s, a markup-like process name as text; its "allow" button makes PROBE's connect
# succeed and names the managed rule's file:line, Undo brings the deny back), logout. Prints "ok ..." / "FAIL ..." lines;
# screenshots go to OUTDIR.
import os
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

url, secret, outdir, trigger, probe = sys.argv[1:6]
fails = 0


def check(desc, cond):
    global fails
    print(("ok   " if cond else "FAIL ") + desc, flush=True)
    fails += 0 if cond else 1


def shot(drv, name):
    path = os.path.join(outdir, name)
    drv.save_screenshot(path)
    # a blank page compresses to a few hundred bytes
    check("screenshot %s is not blank (%d bytes)" % (name, os.path.getsize(path)),
          os.path.getsize(path) > 8000)


def csp_violations(drv):
    return [e["message"] for e in drv.get_log("browser")
            if "Content Security Policy" in e["message"] or "Refused to" in e["message"]]


def start():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900",
              "--user-data-dir=" + os.path.join(outdir, "profile"), "--no-proxy-server"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def login(drv, wait):
    drv.get(url + "/")
    wait.until(EC.presence_of_element_located((By.ID, "secret")))
    check("/ without a session leads to the login page", drv.current_url == url + "/login")
    shot(drv, "login.png")
    drv.find_element(By.ID, "secret").send_keys(secret)
    drv.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#agent dd"))
    check("after login the Status page shows the agent", drv.title == "lsnitch — Status")
    shot(drv, "status.png")


def policies(drv, wait):
    drv.get(url + "/policies")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#rules h3"))
    text = drv.find_element(By.ID, "rules").text
    check("the Policies page lists the rule with its file:line", "web.ini:4" in text)
    shot(drv, "policies.png")


def live(drv, wait):
    drv.get(url + "/live")
    wait.until(lambda d: d.find_element(By.ID, "state").text == "connected")
    t0 = time.monotonic()
    subprocess.run(["bash", trigger], check=False)
    WebDriverWait(drv, 2).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#events tbody tr.v-deny"))
    check("a denied connect shows in the live view after %d ms"
          % ((time.monotonic() - t0) * 1000), True)
    rows = drv.find_element(By.CSS_SELECTOR, "#events tbody").text
    check("the process name <script>alert(1 is shown as text", "<script>alert(1" in rows)
    inert = drv.execute_script(
        "return document.querySelectorAll('#events script, #events img').length")
    check("no element was made from it", inert == 0)
    shot(drv, "live.png")
    allow_and_undo(drv, wait)


def probe_result():
    return subprocess.run(["bash", probe], capture_output=True, text=True).stdout.strip()


def allow_and_undo(drv, wait):
    check("before: the probe's connect is denied", probe_result() == "EPERM")
    row = drv.find_element(By.CSS_SELECTOR, "#events tbody tr.v-deny")
    row.find_element(By.XPATH, ".//button[text()='allow']").click()
    wait.until(lambda d: d.find_element(By.ID, "action").is_displayed())
    text = drv.find_element(By.ID, "action-text").text
    check("the page names the added rule's file:line (%s)" % text,
          "rules.d/web.ini:2" in text and "allow = 127.0.0.2:" in text)
    check("after allow: the probe's connect succeeds", probe_result() == "ok")
    shot(drv, "live-allowed.png")
    drv.find_element(By.ID, "undo").click()
    wait.until(lambda d: d.find_element(By.ID, "action-text").text == "Undone.")
    check("after undo: the probe's connect is denied again", probe_result() == "EPERM")


def main():
    drv = start()
    wait = WebDriverWait(drv, 10)
    try:
        login(drv, wait)
        policies(drv, wait)
        live(drv, wait)
        check("no Content-Security-Policy violation in the console", not csp_violations(drv))
        drv.find_element(By.ID, "logout").click()
        wait.until(EC.presence_of_element_located((By.ID, "secret")))
        check("logout leads back to the login page", drv.current_url == url + "/login")
    except Exception as e:  # a timeout or an alert() that ran: both are failures
        check("the browser run: %s: %s" % (type(e).__name__, str(e).splitlines()[0:1]), False)
        drv.save_screenshot(os.path.join(outdir, "failure.png"))
    finally:
        drv.quit()
    return 1 if fails else 0


sys.exit(main())
