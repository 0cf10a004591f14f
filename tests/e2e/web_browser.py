#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# Drives Debian's headless chromium (chromedriver, selenium) through lsnitch-web for
# t_web_browser.sh: login, Status, Policies, Live (a denial triggered by TRIGGER must show
# within 2 s, a markup-like process name as text; its "allow" button makes PROBE's connect
# succeed and names the managed rule's file:line, Undo brings the deny back), History (the
# chart has allowed and denied bars, looked at pixel by pixel; the drill-down shows a cgroup
# named like markup as text), Learn (the policy shown passes AGENT --check), logout. Prints
# "ok ..." / "FAIL ..." lines; screenshots go to OUTDIR.
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

url, secret, outdir, trigger, probe, agent, odd_cgroup = sys.argv[1:8]
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


def png_pixels(png):
    """The RGB(A) rows of an 8-bit PNG (what chromium's screenshots are), unfiltered."""
    pos, idat, width = 8, b"", 0
    while pos < len(png):
        n, kind = struct.unpack(">I4s", png[pos:pos + 8])
        body = png[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            bpp = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, rows, prev = zlib.decompress(idat), [], bytearray(width * bpp)
    stride = width * bpp + 1
    for y in range(height):
        f, line = raw[y * stride], bytearray(raw[y * stride + 1:(y + 1) * stride])
        for i in range(len(line)):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return [[tuple(r[x * bpp:x * bpp + 3]) for x in range(width)] for r in rows]


def colour_count(pixels, rgb):
    return sum(1 for row in pixels for p in row if all(abs(p[i] - rgb[i]) < 24 for i in range(3)))


def history(drv, wait):
    # the agent drains its flow table every 2 s: the page is asked again until the bars are in
    for _ in range(10):
        drv.get(url + "/history")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#charts .legend"))
        if drv.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar-deny") and \
                drv.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar-allow"):
            break
        time.sleep(1)
    charts = drv.find_elements(By.CSS_SELECTOR, "svg.chart")
    check("the History page draws a chart for the policy", len(charts) >= 1)
    pixels = png_pixels(charts[0].screenshot_as_png)
    red, green = colour_count(pixels, (229, 57, 53)), colour_count(pixels, (67, 160, 71))
    check("the chart is not blank: %d denied and %d allowed pixels" % (red, green),
          red > 20 and green > 20)
    shot(drv, "history.png")
    rows = drv.find_elements(By.XPATH, "//table[@id='top']//tr[td[4][text()='127.0.0.2']]")
    check("the top destinations list 127.0.0.2", len(rows) >= 1)
    rows[0].find_element(By.XPATH, ".//button[text()='flows']").click()
    wait.until(lambda d: d.find_element(By.ID, "drill").is_displayed())
    text = drv.find_element(By.CSS_SELECTOR, "#flows tbody").text
    check("the drill-down shows each flow's rule file:line", "web.ini:4" in text)
    check("a cgroup named %s is shown as text" % odd_cgroup, odd_cgroup in text)
    inert = drv.execute_script(
        "return document.querySelectorAll('#main script, #main img, [onerror]').length")
    check("no element was made from it", inert == 0)
    shot(drv, "history-flows.png")
    history_allow_and_undo(drv, wait)


def history_allow_and_undo(drv, wait):
    """The drill-down's "allow" on a denied flow: a rule with its file:line, then undo."""
    check("history, before: the probe's connect is denied", probe_result() == "EPERM")
    row = drv.find_element(By.XPATH, "//table[@id='flows']//tr[contains(@class, 'v-deny')]"
                           "[td[6][text()='127.0.0.2']]")
    row.find_element(By.XPATH, ".//button[text()='allow']").click()
    wait.until(lambda d: d.find_element(By.ID, "h-action").is_displayed())
    text = drv.find_element(By.ID, "h-action-text").text
    check("the History page names the added rule's file:line (%s)" % text,
          "rules.d/web.ini:" in text and "allow = 127.0.0.2:" in text)
    check("after allow from History: the probe's connect succeeds", probe_result() == "ok")
    drv.find_element(By.ID, "h-undo").click()
    wait.until(lambda d: d.find_element(By.ID, "h-action-text").text == "Undone.")
    check("after undo from History: the probe's connect is denied again",
          probe_result() == "EPERM")


def learn(drv, wait):
    drv.get(url + "/learn")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#l-policy option"))
    drv.find_element(By.ID, "l-go").click()
    wait.until(lambda d: d.find_element(By.ID, "l-result").is_displayed())
    ini = drv.find_element(By.ID, "l-ini").text
    check("the Learn page shows the policy", "[policy web]" in ini and "default = deny" in ini)
    check("it names the markup-like cgroup as text", odd_cgroup in ini)
    href = drv.find_element(By.ID, "l-download").get_attribute("href")
    check("it offers the INI to download", "/api/learn.ini?policy=web" in href)
    with tempfile.NamedTemporaryFile("w", suffix=".ini", dir=outdir, delete=False) as f:
        f.write(ini + "\n")
    out = subprocess.run([agent, "--check", "--config", f.name], capture_output=True, text=True)
    check("the policy on the Learn page passes lsnitch-agent --check (%s)"
          % (out.stdout + out.stderr).strip()[:200], "configuration OK" in out.stdout + out.stderr)
    shot(drv, "learn.png")
    # per executable: the probe's interpreter gets an exe policy of its own
    drv.find_element(By.ID, "l-by-exe").click()
    drv.find_element(By.ID, "l-go").click()
    wait.until(lambda d: "exe polic" in d.find_element(By.ID, "l-summary").text)
    ini = drv.find_element(By.ID, "l-ini").text
    check("per executable: the scope's policy and an exe policy",
          "[policy web]" in ini and "\nexe = /" in ini)
    href = drv.find_element(By.ID, "l-download").get_attribute("href")
    check("per executable: the download asks by_exe=1", "by_exe=1" in href)
    shot(drv, "learn-by-exe.png")


def main():
    drv = start()
    wait = WebDriverWait(drv, 10)
    try:
        login(drv, wait)
        policies(drv, wait)
        live(drv, wait)
        history(drv, wait)
        learn(drv, wait)
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
